"""Assemble a ``Derivation`` for (model, activation, loss): each model in ``derive.models`` builds its own.

A derivation with a user's expression runs under the budget (``derive.budget``): past it, or when SymPy fails on
the expression, the caller gets a one-line ``DeriveError`` naming the expression as SymPy prints it.
"""
from __future__ import annotations

from collections.abc import Mapping
from contextlib import contextmanager

from derive.budget import Budget, limited, shown
from derive.catalogue import ACTIVATIONS, LOSSES, SPANS, Head, check, lookup
from derive.catalogue.custom import custom_activation, custom_loss
from derive.derivations.value import Derivation
from derive.errors import BadValue, CannotDerive, DeriveError

MAX_LAYERS = 8
MAX_OUTPUTS = 64


def derivation(activation: str | None = None, loss: str | None = None, model: str = "neuron", *,
               hidden: str | None = None, layers: int = 1, outputs: int | None = None,
               activation_expr: str | None = None, loss_expr: str | None = None,
               example: Mapping | None = None, budget: Budget | None = None, weight_decay: float | None = None,
               optimizer: str | None = None, optimizer_options: Mapping | None = None) -> Derivation:
    """The step-by-step derivation of the weight update of ``model`` with ``activation`` and ``loss``.

    ``activation_expr`` / ``loss_expr`` replace the named entries by a user's expression in z / in a and y; that
    work is bounded by ``budget`` (default: ``Budget.from_environment()``, 10 s and the size limits there).
    ``hidden`` and ``layers`` shape an MLP; ``outputs`` is K, the number of outputs of the head (default: the
    least its span takes). ``example`` (e.g. {"w": 0.5, "b": 0, "x": 2, "y": 1, "lr": 0.1}) appends a worked
    example with those numbers. ``weight_decay`` λ adds the penalty (λ/2)·Σ w² to the loss (for AdamW: its
    decoupled decay); ``optimizer`` (sgd, adam, adamw, rmsprop, lbfgs) with ``optimizer_options`` (torch.optim's
    names) writes the update rule as that optimizer's.
    """
    with custom_work(activation_expr, loss_expr, budget) as job:
        model_entry, act, loss_entry, hidden_entry = entries(activation, loss, model, hidden=hidden,
                                                             activation_expr=activation_expr, loss_expr=loss_expr)
        job.subject = subject(act, loss_entry, activation_expr, loss_expr) or job.subject
        outputs = SPANS[act.span].min_outputs if outputs is None else outputs
        check(model_entry, act, loss_entry, hidden_entry, outputs)
        if outputs > MAX_OUTPUTS:
            raise BadValue(f"--outputs must be at most {MAX_OUTPUTS}, not {outputs}")
        if model_entry.hidden_layers and (not isinstance(layers, int) or not 1 <= layers <= MAX_LAYERS):
            raise BadValue(f"--layers must be a whole number from 1 to {MAX_LAYERS}, not {layers!r}")
        plan = _training(weight_decay, optimizer, optimizer_options)
        built = model_entry.build(Head(act, loss_entry), hidden_entry, layers, outputs, training=plan)
        if example is None:
            return built
        from derive.derivations.example import with_example
        return with_example(built, act, loss_entry, example, plan)


def _training(weight_decay, optimizer, options):
    """The Training of the options given, or None (plain gradient descent, as every derivation writes it)."""
    if weight_decay is None and optimizer is None and not options:
        return None
    from derive.catalogue.optimizers import training
    given = dict(options or {})
    if weight_decay is not None:
        if "weight_decay" in given:
            raise BadValue("give the weight decay once: --weight-decay, or weight_decay among the options")
        given["weight_decay"] = weight_decay
    return training(optimizer, given)


@contextmanager
def custom_work(activation_expr: str | None, loss_expr: str | None, budget: Budget | None = None):
    """Work on a user's expression: under ``budget``, and any exception that is not a ``DeriveError`` becomes a
    one-line ``CannotDerive``. Work on named entries only runs as it is, so a bug there surfaces as itself."""
    if activation_expr is None and loss_expr is None:
        yield _Named()
        return
    with limited(budget, "the custom expression") as job:
        try:
            yield job
        except DeriveError:
            raise
        except Exception as error:  # noqa: BLE001 - SymPy failing on a user's formula is a refusal, not a crash
            reason = "".join(c if c.isprintable() else " " for c in " ".join(str(error).split()))[:120]
            raise CannotDerive(f"cannot derive {job.subject}: {type(error).__name__}"
                               f"{': ' + reason if reason else ''}") from error


class _Named:
    """The job of work on named entries only: no budget, and nothing of the user's to name."""

    subject = ""


def subject(act, loss_entry, activation_expr, loss_expr) -> str:
    """'activation f(z) = … with loss L(a, y) = …', naming the user's expressions as SymPy prints them."""
    parts = ([f"activation f(z) = {shown(act.expr)}"] if activation_expr is not None else []) + \
            ([f"loss L(a, y) = {shown(loss_entry.expr)}"] if loss_expr is not None else [])
    return " with ".join(parts)


def entries(activation=None, loss=None, model="neuron", *, hidden=None, activation_expr=None, loss_expr=None):
    """(Model, Activation, Loss, hidden Activation or None), looked up or parsed, and checked to fit."""
    from derive.models import MODELS

    model_entry = lookup(MODELS, model, "model")
    act = _entry(activation, activation_expr, ACTIVATIONS, custom_activation, "activation")
    loss_entry = _entry(loss, loss_expr, LOSSES, custom_loss, "loss")
    hidden_entry = lookup(ACTIVATIONS, hidden, "hidden activation") if hidden else None
    check(model_entry, act, loss_entry, hidden_entry, SPANS[act.span].min_outputs)
    if model_entry.hidden_layers:
        hidden_entry = hidden_entry or ACTIVATIONS[model_entry.default_hidden]
    return model_entry, act, loss_entry, hidden_entry


def _entry(name, expr, registry, make, kind):
    if expr is not None and name is not None:
        raise BadValue(f"give either --{kind} NAME or --{kind}-expr EXPR, not both")
    if expr is not None:
        return make(expr)
    if name is None:
        raise BadValue(f"give --{kind} NAME (see 'derive list') or --{kind}-expr EXPR")
    return lookup(registry, name, kind)


__all__ = ["Budget", "Derivation", "custom_work", "derivation", "entries", "subject"]
