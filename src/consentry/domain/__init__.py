"""Pure domain logic: purposes, notices, consent state, check rules, evidence, the Merkle log.

Nothing here imports a web framework or a database driver.
"""
