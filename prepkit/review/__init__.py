"""Reviewing a policy before it touches data: `show` (plain language), `diff` (effects of a change), `lint` (every
problem at once) and `dryrun` (what a run would do to samples).

Above the pipeline: these read the policy, the operator catalog, routing and the pipeline itself, so their
sentences and examples come from what a run really does. `prepkit.policy` imports none of them.
"""
