"""The one estimator base of the suite: scikit-learn's ``BaseEstimator`` contract, written down once.

Every estimator in ``neurodata`` and ``neurosim`` derives from :class:`Estimator`; ``tests/test_estimators.py``
finds each subclass on its own and checks the contract below, so a new estimator is covered as soon as it
derives from this class.

This module imports ``sklearn.base`` (scikit-learn's own ``get_params``/``set_params``/``clone`` machinery, and
with it scipy and pandas, but never torch or brian2). It is imported by the estimator modules only, never by a
package ``__init__``, so ``import neurodata`` stays light.
"""
from sklearn.base import BaseEstimator

__all__ = ["DEFAULT_VERBOSE", "Estimator"]

#: The one ``verbose`` default of every estimator: quiet. Progress bars and log lines appear when asked for
#: (``verbose=True``); the command lines pass ``verbose=not --quiet``.
DEFAULT_VERBOSE = False


class Estimator(BaseEstimator):
    """Base of every neurosuite estimator (scikit-learn's ``BaseEstimator``).

    The contract, as scikit-learn's:

    - ``__init__`` takes hyper-parameters only, all **keyword-only** (``Model(rank=3)``, never ``Model(3)``),
      each with a default, and stores each unchanged under its own name: no validation, conversion or copying
      there (``sklearn.base.clone`` checks this). Validation happens in ``fit``, with the messages of
      :mod:`neurodata.errors`.
    - ``get_params()`` / ``set_params(**params)`` / ``sklearn.base.clone(est)`` come from ``BaseEstimator``; do not
      write them by hand. Code that needs an estimator's settings (results files, checkpoints, worker tasks,
      defaults of a batch analysis) calls ``get_params()``.
    - ``fit(...)`` (or a named variant such as ``fit_trials``) returns ``self``; what it learns is stored in
      attributes ending with ``_`` (private helpers may start with ``_``). ``fit`` never modifies its inputs.
    - ``verbose`` defaults to ``DEFAULT_VERBOSE`` (``False``) in every estimator that has it.
    - ``seed`` accepts ``None``, an int or a ``numpy.random.Generator``; the generator is created inside ``fit``.

    An ``__init__`` with many hyper-parameters may end in ``self._keep(locals())`` instead of one
    ``self.name = name`` line per parameter: the same assignments, written once.
    """

    def _keep(self, arguments):
        """Store each ``__init__`` argument unchanged under its own name (``arguments`` is ``locals()``)."""
        for name in self._get_param_names():
            setattr(self, name, arguments[name])
