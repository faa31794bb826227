from prepkit.policy.load import LoadedPolicy, PolicyError, Problem, load_policy
from prepkit.policy.model import Policy

__all__ = ["LoadedPolicy", "Policy", "PolicyError", "Problem", "load_policy"]
