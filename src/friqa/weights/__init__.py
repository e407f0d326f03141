"""The small weight files friqa ships, located and hash-checked.

Two files live in this package, each byte-identical to the file of the package
it comes from (provenance and licence in the ``LICENSE-*.txt`` beside them):

- ``lpips_vgg_v0.1.pth``: LPIPS v0.1 linear weights for VGG16 (``lpips`` 0.1.4,
  BSD-2-Clause);
- ``dists_alpha_beta.pt``: DISTS alpha/beta (``dists-pytorch`` 0.1, MIT).

Every read checks the file's SHA-256 against :data:`SHIPPED_SHA256`, so a
corrupted installation fails loudly instead of giving wrong scores.
"""

from __future__ import annotations

import functools
import hashlib
import io
import sys
from importlib import resources

import torch
from torch import Tensor

from friqa.exceptions import WeightsError

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # pragma: no cover
    from importlib.abc import Traversable

__all__ = ["SHIPPED_SHA256", "shipped_file", "load_shipped"]

#: File name -> SHA-256 of the original bytes.
SHIPPED_SHA256: dict[str, str] = {
    "lpips_vgg_v0.1.pth": "a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868",
    "dists_alpha_beta.pt": "f5e65c96230b7f6ca995691647d482237e4cab8a50c5c4a5784f219ef0748218",
}


def _read_checked(name: str) -> tuple[Traversable, bytes]:
    if name not in SHIPPED_SHA256:
        raise WeightsError(
            f"'{name}' is not a weight file shipped with friqa; known: {sorted(SHIPPED_SHA256)}"
        )
    entry = resources.files(__name__).joinpath(name)
    try:
        data = entry.read_bytes()
    except OSError as exc:
        raise WeightsError(
            f"the shipped weight file {name} is missing from the friqa installation "
            f"({exc}); reinstall friqa"
        ) from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHIPPED_SHA256[name]:
        raise WeightsError(
            f"the shipped weight file {name} has SHA-256 {digest[:16]}..., expected "
            f"{SHIPPED_SHA256[name][:16]}...; the installation is corrupt, reinstall friqa"
        )
    return entry, data


def shipped_file(name: str) -> Traversable:
    """Locate the shipped file ``name`` after checking its SHA-256.

    Example:
        >>> shipped_file("lpips_vgg_v0.1.pth").name
        'lpips_vgg_v0.1.pth'

    Raises:
        WeightsError: unknown name, missing file or wrong digest.
    """
    return _read_checked(name)[0]


@functools.cache
def _load(name: str) -> dict[str, Tensor]:
    _, data = _read_checked(name)
    try:
        raw = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # pragma: no cover - the digest already matched
        raise WeightsError(f"the shipped weight file {name} cannot be read: {exc}") from exc
    if not isinstance(raw, dict) or not all(isinstance(v, Tensor) for v in raw.values()):
        raise WeightsError(f"the shipped weight file {name} is not a dict of tensors")
    return {str(k): v.detach() for k, v in raw.items()}


def load_shipped(name: str) -> dict[str, Tensor]:
    """The tensors of the shipped file ``name`` (hash-checked, read once per process).

    Returns fresh copies, so callers may modify them.

    Example:
        >>> sorted(load_shipped("dists_alpha_beta.pt"))
        ['alpha', 'beta']
    """
    return {k: v.clone() for k, v in _load(name).items()}
