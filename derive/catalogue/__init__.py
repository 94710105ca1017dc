"""The registry's data: every elementary function, activation, loss and head span, declared once.

Models live in ``derive.models`` (each owns its derivation and kernel template); optimizers in
``derive.catalogue.optimizers`` once they exist.
"""
from derive.catalogue.activations import ACTIVATIONS, Activation
from derive.catalogue.heads import SPANS, Head, Span
from derive.catalogue.losses import LOSSES, Loss
from derive.catalogue.pairs import check, head_problem, lookup, valid_pairs

__all__ = ["ACTIVATIONS", "LOSSES", "SPANS", "Activation", "Head", "Loss", "Span", "check", "head_problem",
           "lookup", "valid_pairs"]
