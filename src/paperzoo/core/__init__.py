"""The harness every paper uses: registry, claims, run records, statistics, report.

Kept import-light on purpose: `paperzoo list` must not import torch or scipy.
"""

from paperzoo.core.claims import Claim, ClaimResult, Evidence, numeric_metrics
from paperzoo.core.errors import UserError
from paperzoo.core.registry import Command, Paper, RunContext, register

__all__ = ["Claim", "ClaimResult", "Command", "Evidence", "Paper", "RunContext", "UserError", "numeric_metrics",
           "register"]
