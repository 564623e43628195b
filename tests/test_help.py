"""help() on the suite's packages lists their public names and not what they import (#25 item 4)."""
import importlib
import pydoc
import subprocess
import sys

import pytest


def test_help_bicluster_lists_the_estimator():
    import neurodata.bicluster

    text = pydoc.render_doc(neurodata.bicluster, renderer=pydoc.plaintext)
    assert "class BiclusterMCMC" in text
    assert "BiclusterMCMC" in dir(neurodata.bicluster)


def test_bicluster_stays_lazy():
    code = ("import sys, neurodata.bicluster; dir(neurodata.bicluster); "
            "sys.exit('neurodata.bicluster.estimator' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize("name", ["neurodata.bicluster.summaries", "neurodata.bicluster.sampler",
                                  "neurodata.connectome.ntf"])
def test_help_shows_no_imported_scipy_function(name):
    module = importlib.import_module(name)
    assert all(hasattr(module, public) for public in module.__all__)
    text = pydoc.render_doc(module, renderer=pydoc.plaintext)
    assert "linear_sum_assignment(" not in text  # scipy's, imported at top level
    for public in module.__all__:
        assert public in text


PACKAGES = ["neurodata.io", "neurodata.bicluster", "neurodata.connectome", "neurodata.rsa", "neurodata.alignment",
            "neurodata.mmgpvae", "neurodata.neuroformer", "neurodata.batch", "neurodata.deep", "neurosim.dendrites",
            "neurosim.reservoir", "neurosim.motion", "neurosim.elm", "neurosim.sweep"]


@pytest.mark.parametrize("name", PACKAGES)
def test_help_on_each_package_lists_its_public_names(name):
    """#25 item 4: help(package) names every public name, the lazily loaded estimators included."""
    module = importlib.import_module(name)
    assert module.__all__, f"{name} declares no public names"
    text = pydoc.render_doc(module, renderer=pydoc.plaintext)
    missing = [public for public in module.__all__ if public not in text]
    assert not missing, f"help({name}) does not list {missing}"
