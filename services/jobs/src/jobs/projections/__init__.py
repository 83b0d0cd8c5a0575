"""Projections: jobs' own read models (one module per sub-domain, assembled in
`read_model`), and the residents read model fed by registration (`residents`).

Both also keep the in-memory match index current through an `IndexFeed`, which
hands the index a read model's changes only once their transaction commits.
Reactions to other services' events, which issue commands, are in `jobs.reactions`.
"""
