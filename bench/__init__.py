"""``make bench``: cold starts, the warm webhook and trigger evaluation, each against a floor
measured in the same run. See ``bench/RESULTS.md``."""
