"""The registry of normal-return models: every model by its name, and :func:`get_model`.

Every model implements :class:`~eventstudy.estimation.base.NormalReturnModel` (its names, the data it needs, its
fit, its parameter table, its state); the linear models live in :mod:`eventstudy.estimation.linear`, the market
model with GARCH-family errors in :mod:`eventstudy.estimation.garch`.  Adding a model is one module and one entry
in :data:`REGISTRY`; the command line's ``--model`` choices, the study file's ``model`` key and the documentation
read the names from here (:func:`model_names`).

The classes, :func:`~eventstudy.estimation.fit.estimate` and :class:`~eventstudy.estimation.fit.StackedFit` are
importable from here too (``eventstudy.estimation.models.MarketModel`` is a public path).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventstudy.estimation.base import RISK_FREE, DataNeeds, NormalReturnModel
from eventstudy.estimation.fit import StackedFit, estimate
from eventstudy.estimation.garch import Egarch, Garch, GjrGarch
from eventstudy.estimation.linear import (
    CAPM,
    Carhart4,
    ConstantMean,
    Dimson,
    FamaFrench3,
    FamaFrench5,
    MarketAdjusted,
    MarketModel,
    MultiIndexModel,
    ScholesWilliams,
)

__all__ = [
    "NormalReturnModel",
    "DataNeeds",
    "ConstantMean",
    "MarketAdjusted",
    "MarketModel",
    "MultiIndexModel",
    "Dimson",
    "ScholesWilliams",
    "CAPM",
    "FamaFrench3",
    "FamaFrench5",
    "Carhart4",
    "Garch",
    "GjrGarch",
    "Egarch",
    "REGISTRY",
    "MODELS",
    "RISK_FREE",
    "get_model",
    "model_names",
    "from_state",
    "StackedFit",
    "estimate",
]

#: every normal-return model, by its name, in the order the documentation lists them
REGISTRY: dict[str, type[NormalReturnModel]] = {
    cls.name: cls
    for cls in (
        ConstantMean,
        MarketAdjusted,
        MarketModel,
        MultiIndexModel,
        Dimson,
        ScholesWilliams,
        CAPM,
        FamaFrench3,
        FamaFrench5,
        Carhart4,
        Garch,
        GjrGarch,
        Egarch,
    )
}
#: the registry under its older name
MODELS = REGISTRY


def _spellings() -> dict[str, tuple[type[NormalReturnModel], Mapping[str, Any]]]:
    """Every accepted name (lower case): the class and the arguments it is built with."""
    out: dict[str, tuple[type[NormalReturnModel], Mapping[str, Any]]] = {}

    def add(spelling: str, cls: type[NormalReturnModel], kwargs: Mapping[str, Any]) -> None:
        if spelling.lower() in out:  # a name must select one model: fail on import, not on a user's study
            raise RuntimeError(f"The model name {spelling!r} is claimed by two models of the registry.")
        out[spelling.lower()] = (cls, kwargs)

    for name, cls in REGISTRY.items():
        add(name, cls, {})
        for alias in vars(cls).get("aliases", ()):  # a subclass does not inherit its parent's aliases
            add(alias, cls, {})
        for variant, kwargs in cls.variants().items():
            add(variant, cls, kwargs)
    return out


_SPELLINGS = _spellings()


def model_names(*, variants: bool = True) -> tuple[str, ...]:
    """The registry's model names, and (``variants=True``) the names that build one with arguments
    (``"garch-t"``); aliases are not listed.  The CLI, the study file and the docs list these."""
    names = list(REGISTRY)
    if variants:
        names += [v for cls in REGISTRY.values() for v in cls.variants()]
    return tuple(names)


def get_model(model: str | NormalReturnModel) -> NormalReturnModel:
    """Return a model instance from its name (``"market"``, ``"ff3"``, ``"garch-t"``, an alias) or pass an
    instance through.

    Raises
    ------
    TypeError
        ``model`` is neither a string nor a :class:`~eventstudy.estimation.base.NormalReturnModel`.
    ValueError
        An unknown name; the message lists the known ones.
    """
    if isinstance(model, NormalReturnModel):
        return model
    if not isinstance(model, str):
        raise TypeError(
            f"The 'model' parameter must be a model name or a NormalReturnModel. Got {type(model).__name__} instead."
        )
    found = _SPELLINGS.get(model.strip().lower())
    if found is None:
        raise ValueError(f"The 'model' parameter must be one of {model_names()}. Got {model!r} instead.")
    cls, kwargs = found
    return cls(**kwargs)


def from_state(state: Mapping[str, Any]) -> NormalReturnModel:
    """The model a :meth:`NormalReturnModel.state() <eventstudy.estimation.base.NormalReturnModel.state>` dict
    describes, its class found in :data:`REGISTRY` by ``state["name"]``."""
    if not isinstance(state, Mapping) or "name" not in state:
        raise TypeError(f"A model state must be a mapping with a 'name'. Got {state!r} instead.")
    cls = REGISTRY.get(state["name"])
    if cls is None:
        raise ValueError(f"Saved model {state['name']!r} is not one of {tuple(REGISTRY)}.")
    return cls.from_state(state)
