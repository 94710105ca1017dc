"""Independent references for the optimizer tests: torch.optim on a torch model of the same mean loss, or, where
PyTorch is absent, the torch.optim algorithms written again here in NumPy (from the torch.optim documentation,
not from derive's registry) on the module's own gradient.

``reference(module, params, options_by_optimizer)`` gives an object with ``step(X, y) -> loss`` (one update on
the batch's mean loss, the loss plus (λ/2)‖W‖² before it returned) and ``params`` (NumPy copies). Weight decay
applies to the weights only: torch gets two parameter groups, the biases with weight_decay=0.
"""
import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError:   # the same tests then run against the NumPy references below
    torch = None

CONFIGS = [   # (optimizer, options): every option and branch of each update at least once
    ("sgd", {}), ("sgd", {"momentum": 0.9}), ("sgd", {"momentum": 0.8, "dampening": 0.3}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("adam", {}), ("adam", {"betas": (0.8, 0.95), "eps": 1e-6, "amsgrad": True}),
    ("adamw", {}), ("adamw", {"amsgrad": True}),
    ("rmsprop", {}), ("rmsprop", {"alpha": 0.9, "momentum": 0.5, "centered": True}),
]


class NumpyOptimizer:
    """torch.optim's SGD, Adam, AdamW and RMSprop as its documentation writes them, one parameter array at a time."""

    def __init__(self, name, params, lr, decays, options):
        self.name, self.lr, self.decays, self.t = name, lr, decays, 0
        defaults = {"sgd": dict(momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0),
                    "adam": dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False),
                    "adamw": dict(betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False),
                    "rmsprop": dict(alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False)}[name]
        self.o = {**defaults, **options}
        self.state = [dict() for _ in params]

    def step(self, params, grads):
        self.t += 1
        for p, g, decay, s in zip(params, grads, self.decays, self.state):
            getattr(self, f"_{self.name}")(p, g.copy(), self.o["weight_decay"] if decay else 0.0, s)

    def _sgd(self, p, g, wd, s):
        o = self.o
        g = g + wd * p
        if o["momentum"]:
            s["b"] = g.copy() if "b" not in s else o["momentum"] * s["b"] + (1 - o["dampening"]) * g
            g = g + o["momentum"] * s["b"] if o["nesterov"] else s["b"]
        p -= self.lr * g

    def _adam(self, p, g, wd, s, decoupled=False):
        o, (b1, b2) = self.o, self.o["betas"]
        if decoupled:
            p *= 1 - self.lr * wd
        else:
            g = g + wd * p
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        v = s["v"]
        if o["amsgrad"]:
            s["vmax"] = v = np.maximum(s.get("vmax", 0.0), s["v"])
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        p -= (self.lr / c1) * s["m"] / (np.sqrt(v) / np.sqrt(c2) + o["eps"])

    def _adamw(self, p, g, wd, s):
        self._adam(p, g, wd, s, decoupled=True)

    def _rmsprop(self, p, g, wd, s):
        o = self.o
        g = g + wd * p
        s["v"] = o["alpha"] * s.get("v", 0.0) + (1 - o["alpha"]) * g * g
        avg = s["v"]
        if o["centered"]:
            s["gbar"] = o["alpha"] * s.get("gbar", 0.0) + (1 - o["alpha"]) * g
            avg = avg - s["gbar"] ** 2
        avg = np.sqrt(avg) + o["eps"]
        if o["momentum"]:
            s["b"] = o["momentum"] * s.get("b", 0.0) + g / avg
            p -= self.lr * s["b"]
        else:
            p -= self.lr * g / avg


def _penalty(params, weight_decay):
    return 0.5 * weight_decay * sum(float(np.sum(np.asarray(W) ** 2)) for W in params[0::2])


class NumpyReference:
    def __init__(self, module, params, name, lr, options):
        self.module, self.params = module, [np.array(p, copy=True) for p in params]
        self.optimizer = NumpyOptimizer(name, self.params, lr, [i % 2 == 0 for i in range(len(params))], options)
        self.coupled = name != "adamw"

    def step(self, X, y):
        value, grads = self.module.loss_and_gradient(tuple(self.params), X, y)
        penalty = _penalty(self.params, self.optimizer.o["weight_decay"]) if self.coupled else 0.0
        self.optimizer.step(self.params, grads)
        return value + penalty


class TorchReference:
    HIDDEN = {"tanh": "tanh", "relu": "relu", "sigmoid": "sigmoid"}

    def __init__(self, module, params, name, lr, options):
        self.module = module
        self.tensors = [torch.tensor(np.asarray(p), dtype=torch.float64, requires_grad=True) for p in params]
        options = dict(options)
        decay = options.pop("weight_decay", 1e-2 if name == "adamw" else 0.0)
        kind = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
                "rmsprop": torch.optim.RMSprop}[name]
        self.optimizer = kind([{"params": self.tensors[0::2], "weight_decay": decay},
                               {"params": self.tensors[1::2], "weight_decay": 0.0}], lr=lr, **options)
        self.decay, self.coupled = decay, name != "adamw"

    @property
    def params(self):
        return [t.detach().numpy().copy() for t in self.tensors]

    def loss(self, X, y):
        h = torch.tensor(X)
        layers = list(zip(self.tensors[0::2], self.tensors[1::2]))
        for index, (W, b) in enumerate(layers):
            z = h @ W.reshape(h.shape[1], -1) + b
            h = getattr(torch, self.HIDDEN[self.module.HIDDEN])(z) if index < len(layers) - 1 else z
        head = (self.module.ACTIVATION, self.module.LOSS)
        if head == ("softmax", "cross_entropy"):
            return F.cross_entropy(z, torch.tensor(np.asarray(y, dtype=np.int64)))
        target = torch.tensor(np.asarray(y, dtype=np.float64)).reshape(z.shape)
        if head == ("sigmoid", "bce"):
            return F.binary_cross_entropy(torch.sigmoid(z), target)
        assert head == ("identity", "mse"), head
        return F.mse_loss(z, target)

    def step(self, X, y):
        self.optimizer.zero_grad()
        value = self.loss(X, y)
        value.backward()
        penalty = _penalty(self.params, self.decay) if self.coupled else 0.0
        self.optimizer.step()
        return value.item() + penalty


KINDS = ("numpy",) if torch is None else ("numpy", "torch")


def reference(module, params, name, lr, options, kind=None):
    """torch.optim where PyTorch is installed (or ``kind`` "torch"), else the NumPy algorithms above."""
    kind = kind or KINDS[-1]
    return (TorchReference if kind == "torch" else NumpyReference)(module, params, name, lr, options)
