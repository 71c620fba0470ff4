"""The CI regression gate between two results folders (the `compare` command): load.py reads
and checks the two folders, permutation.py is its seed test, compare.py the rule and its
checks, output.py the table, the Markdown and the JSON."""
