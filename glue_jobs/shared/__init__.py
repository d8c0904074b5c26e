"""Code that several Glue scripts share, written once.

These modules are the source; `make glue-scripts` (scripts/dev/glue_scripts.py) inlines each
script's blocks into the scripts of glue_jobs/ between marker lines, so that every script still
uploads to Glue Studio on its own. Edit here, never between the markers. Tests import these
modules directly.
"""
