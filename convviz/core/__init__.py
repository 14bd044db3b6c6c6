"""Core math: plain Python/numpy, no TensorFlow.

Layer descriptions, costs (parameters, mult-adds), receptive fields, the
segment spectrum and filter factorisation. Everything above this layer calls
these functions instead of re-deriving a formula.
"""
