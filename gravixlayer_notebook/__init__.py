"""Jupyter toolkit for GravixLayer: `%load_ext gravixlayer_notebook`."""
