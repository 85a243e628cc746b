"""How long a generated tune or piece is when nobody says: one value for the Generation pane
and for `workbench generate`, so that the same model and seed give the same music in both.

- ABC tunes end where the model ends them; the cap only stops one that rambles. 1,000
  characters is the cap at which `benchmarks/musicality.py` measures the shipped model.
- An event piece runs to its length (the model's end is held back), so the length is what a
  musician hears; 500 events sample in about 0.2 s on the CPU
  (`benchmarks/midi_generate_speed.py`).

Kept free of imports: the CLI reads these while building its --help.
"""

DEFAULT_MAX_CHARS = 1000
DEFAULT_EVENTS = 500
