"""ipywidgets controls over the renderers, and the kernel-free lecture export. Never imports TensorFlow."""
