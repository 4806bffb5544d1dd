"""The compiled kernel's on-disk cache is keyed by every kernel source (numba_import): numba keys
a cached function by its own file's text alone, and an edit to another kernel module loaded the
old machine code (issue 32)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import fabnet.cache
from fabnet.fabsim import numba_import


def test_an_edit_to_any_kernel_module_is_a_new_cache_folder(tmp_path):
    sources = numba_import.kernel_sources()
    names = {path.name for path in sources}
    assert {"kernel.py", "kernel_base.py", "kernel_dispatch.py", "kernel_queue.py", "kernel_state.py"} <= names
    assert {"rules.py", "model.py", "units.py"} <= names  # constants and formulas compiled into the kernel
    root = fabnet.cache.SOURCE_ROOT
    copies = [tmp_path / path.relative_to(root) for path in sources]
    for path, copy in zip(sources, copies, strict=True):
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, copy)
    before = numba_import.kernel_digest(copies, tmp_path)
    assert numba_import.kernel_digest(copies, tmp_path) == before == numba_import.kernel_digest(sources)
    dispatch = tmp_path / "fabnet" / "fabsim" / "kernel_dispatch.py"
    dispatch.write_text(dispatch.read_text() + "\n# an edit that keeps run_chunk's argument types\n")
    assert numba_import.kernel_digest(copies, tmp_path) != before


def test_kernel_functions_cache_in_fabnets_folder_and_a_users_own_where_they_did(tmp_path):
    """A function compiled as the kernel's is cached under fabnet's cache folder and the
    sources' digest, even with result reuse off; a user's own cached function, decorated after,
    in the folder numba would have chosen (here NUMBA_CACHE_DIR)."""
    theirs = tmp_path / "theirs"
    code = """
import numba
from fabnet.fabsim.kernel_base import jit
from fabnet.fabsim.numba_import import kernel_cache_folder
twice = jit(lambda x: 2 * x)
assert twice(21) == 42
own = numba.njit(cache=True)(lambda x: x + 1)
assert own(1) == 2
print(kernel_cache_folder())
"""
    (tmp_path / "theirs.py").write_text(code)  # numba caches only functions defined in a file
    env = dict(os.environ, FABNET_CACHE_DIR=str(tmp_path / "fabnet"), FABNET_CACHE="0", NUMBA_CACHE_DIR=str(theirs))
    done = subprocess.run([sys.executable, "theirs.py"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    assert folder.parent == tmp_path / "fabnet" / "numba"
    assert folder.name.startswith(numba_import.kernel_digest(numba_import.kernel_sources()) + "-")
    assert len(list(folder.rglob("*.nbi"))) == 1 and len(list(theirs.rglob("*.nbi"))) == 1
