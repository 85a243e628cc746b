"""Looking inside a network (Qt-free): probes over ABC text, neuron rankings and exports.

Capture itself is engine-side (`models.activations`); this package holds what the neuron viewer
and the CLI do with the captured arrays.
"""
