"""The default data set: STEDI-shaped landing data (generator) and the defects of real exports
that --dirty adds to it (defects)."""
