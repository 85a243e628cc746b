"""Looking inside a network (Qt-free): probes over ABC text and over an event model's music,
neuron rankings, what the viewer shows per kind of capture, and exports.

Capture itself is engine-side (`models.activations`); this package holds what the neuron viewer
and the CLI do with the captured arrays.
"""
