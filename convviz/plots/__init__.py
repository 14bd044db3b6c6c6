"""Matplotlib renderers: plain data in, a ``Figure`` out. Never trains, never downloads, never imports TensorFlow."""
