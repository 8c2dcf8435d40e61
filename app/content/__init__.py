"""The clinic's information content as data: treatments, comparison rows, FAQ and the self-check.

Every medical sentence here carries the fact-sheet line it comes from (`Fact.source`), so a test
can check that nothing was invented. Nothing in this package imports Flask itself; its words
are Flask-Babel lazy messages (`_l`), translated when a page renders them.
"""
