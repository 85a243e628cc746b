"""ABC notation on the application side: prompts now; validation and conversion as they come."""
