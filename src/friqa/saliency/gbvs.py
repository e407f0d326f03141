"""Graph-Based Visual Saliency (GBVS), batched in PyTorch.

Paper: J. Harel, C. Koch and P. Perona, "Graph-Based Visual Saliency",
Advances in Neural Information Processing Systems 19 (NIPS 2006), pp. 545-552.
Defaults follow Harel's MATLAB toolbox (``gbvs.m`` / ``makeGBVSParams.m``, last
revised Aug 2008), which is what DeepSSIM's saliency calibration used.

Pipeline (all maps of a batch at once):

1. Pyramid. R, G, B and the intensity ``max(R, G, B)`` are low-passed with the
   separable ``[1 5 10 10 5 1]`` kernel (zero padding, renormalised at the
   borders) and decimated by 2, repeatedly; level ``k`` is ``2**-k`` of the
   image. Levels ``(2, 3, 4)`` are used.
2. Feature maps per level: DKL colour (luminance and two opponent axes,
   Derrington, Krauskopf and Lennie 1984), intensity, and orientation
   (``|I * g0| + |I * g90|`` for Gabor pairs at 0/45/90/135 degrees, borders
   attenuated). Each map is resized to the saliency grid (``salmapmaxsize``
   nodes on the long side) with MATLAB-style bicubic ``imresize``.
3. Activation: a fully connected graph on the grid nodes with weights
   ``w(i, j) = |M(i) - M(j)| * exp(-d(i, j)**2 / (2 sigma**2))``,
   ``sigma = sigma_frac_act * mean(grid size)``; the column-normalised matrix is
   a Markov chain whose equilibrium distribution (power iteration, stopped when
   the L2 change is below ``tol``) is the activation map. The paper writes the
   dissimilarity as ``|log(M(i)/M(j))|``; the toolbox's default activation
   (``graphsalapply`` algtype 2) uses the plain difference, which we follow.
4. Normalisation: ``normalization_type=1`` (toolbox default) raises each
   activation map to the power 1.5; ``normalization_type=2`` is the paper's
   graph-based step (weights ``A(j) * exp(-d**2 / (2 sigma_norm**2))``,
   ``num_norm_iters`` equilibria).
5. Maps are summed within a channel, channels are summed with their weights,
   borders attenuated, the map rescaled to [0, 1], blurred (Gaussian,
   ``blurfrac`` of the grid's long side), resized bicubically to the image
   size and rescaled to [0, 1].

Deviations from the toolbox, all documented on :class:`GBVSParams`: the DKL
conversion linearises RGB with the sRGB transfer curve instead of the toolbox's
measured monitor table; ``unCenterBias`` and multi-resolution lattices are not
offered; arithmetic is float64 throughout.

Example:
    >>> import torch
    >>> from friqa.saliency import gbvs
    >>> img = torch.rand(2, 3, 160, 200, generator=torch.Generator().manual_seed(0))
    >>> sal = gbvs(img)
    >>> tuple(sal.shape), float(sal.min()), float(sal.max())
    ((2, 160, 200), 0.0, 1.0)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from friqa.exceptions import InputError
from friqa.validation import check_batch

__all__ = ["GBVSParams", "gbvs", "saliency_grid_size"]

_MIN_SIDE = 128  # the toolbox refuses smaller images
_F64 = torch.float64

# RGB (linear, [0, 1]) -> LMS cone excitations and the LMS of the adapting
# background, as in the DKL conversion of the iLab Neuromorphic Vision Toolkit
# that the GBVS toolbox uses (Smith-Pokorny fundamentals for a CRT display).
_RGB_TO_LMS = (
    (18.32535, 44.60077, 7.46216),
    (4.09544, 28.20135, 6.66066),
    (0.02114, 0.10325, 1.05258),
)
_LMS_BACKGROUND = (34.9185389578, 19.3147966765, 0.5856108185)
_DKL_SCALES = (0.5774, 2.7525, 0.4526)  # per-axis scaling in the same conversion
_LOWPASS6 = (1.0, 5.0, 10.0, 10.0, 5.0, 1.0)
_SUPPORTED_CHANNELS = "DIO"


@dataclass(frozen=True)
class GBVSParams:
    """GBVS settings; defaults are those of Harel's toolbox (``makeGBVSParams.m``).

    Attributes:
        salmapmaxsize: nodes on the long side of the saliency grid (the short
            side is scaled and rounded), e.g. 22x32 for a 700x1024 image.
        channels: feature channels, a subset of ``"DIO"``: ``D`` DKL colour
            (3 maps per level), ``I`` intensity (1), ``O`` Gabor orientation
            (one per angle). ``D`` is skipped for 1-channel images.
        dklcolor_weight, intensity_weight, orientation_weight: channel weights
            in the final sum.
        gabor_angles: orientations in degrees of the Gabor pairs (phases 0 and
            90 degrees; std 2 px, elongation 2, period pi, 27x27 taps).
        levels: pyramid levels whose feature maps are used (level ``k`` is
            ``2**-k`` of the image; allowed 2..9).
        sigma_frac_act: Gaussian distance falloff of the activation graph, as
            a fraction of the mean grid side.
        sigma_frac_norm: the same for the graph-based normalisation
            (``normalization_type=2`` only).
        num_norm_iters: equilibria computed in the graph-based normalisation.
        tol: power iteration stops when the L2 change of the distribution is
            at most ``tol`` (per map).
        max_iters: hard cap on power iterations per equilibrium.
        cyclic_type: 2 = non-cyclic grid distances (toolbox default),
            1 = distances wrap around the borders.
        normalization_type: 1 = raise activation maps to the power 1.5
            (toolbox default); 2 = graph-based mass concentration (paper).
        normalize_top_channel_maps: also normalise each channel's summed map.
        blurfrac: std of the final Gaussian blur as a fraction of the grid's
            long side (0 disables it).
        dkl_linearize: apply the sRGB transfer curve before the RGB -> LMS
            step. The toolbox uses a measured monitor gamma table there
            (not reproduced); ``False`` feeds the gamma-encoded values.
    """

    salmapmaxsize: int = 32
    channels: str = "DIO"
    dklcolor_weight: float = 1.0
    intensity_weight: float = 1.0
    orientation_weight: float = 1.0
    gabor_angles: tuple[float, ...] = (0.0, 45.0, 90.0, 135.0)
    levels: tuple[int, ...] = (2, 3, 4)
    sigma_frac_act: float = 0.15
    sigma_frac_norm: float = 0.06
    num_norm_iters: int = 1
    tol: float = 1e-4
    max_iters: int = 10000
    cyclic_type: int = 2
    normalization_type: int = 1
    normalize_top_channel_maps: bool = False
    blurfrac: float = 0.02
    dkl_linearize: bool = True

    def __post_init__(self) -> None:
        if self.salmapmaxsize < 2:
            raise InputError(f"salmapmaxsize must be >= 2, got {self.salmapmaxsize}")
        bad = sorted(set(self.channels) - set(_SUPPORTED_CHANNELS))
        if not self.channels or bad:
            raise InputError(
                f"channels must be a non-empty subset of {_SUPPORTED_CHANNELS!r}, "
                f"got {self.channels!r}"
            )
        if not self.levels or any(lv < 2 or lv > 9 for lv in self.levels):
            raise InputError(f"levels must be integers in 2..9, got {self.levels}")
        if "O" in self.channels and not self.gabor_angles:
            raise InputError("channel 'O' needs at least one angle in gabor_angles")
        for name in ("sigma_frac_act", "sigma_frac_norm", "tol"):
            if not getattr(self, name) > 0:
                raise InputError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.blurfrac < 0:
            raise InputError(f"blurfrac must be >= 0, got {self.blurfrac}")
        if self.num_norm_iters < 1 or self.max_iters < 1:
            raise InputError("num_norm_iters and max_iters must be >= 1")
        if self.cyclic_type not in (1, 2):
            raise InputError(f"cyclic_type must be 1 or 2, got {self.cyclic_type}")
        if self.normalization_type not in (1, 2):
            raise InputError(
                f"normalization_type must be 1 (power 1.5) or 2 (graph-based), "
                f"got {self.normalization_type}"
            )


def saliency_grid_size(height: int, width: int, salmapmaxsize: int = 32) -> tuple[int, int]:
    """The (rows, cols) of the GBVS node grid for an image (toolbox ``initGBVS``).

    >>> saliency_grid_size(700, 1024)
    (22, 32)
    """
    scale = salmapmaxsize / max(height, width)
    return _round_half_away(height * scale), _round_half_away(width * scale)


def gbvs(image: Any, *, params: GBVSParams | None = None, **overrides: Any) -> torch.Tensor:
    """GBVS saliency map(s) at the image size, each rescaled to [0, 1].

    Args:
        image: ``(3, H, W)`` or ``(N, 3, H, W)`` float tensor in [0, 1]
            (1 channel also accepted: no colour channel then), or anything
            :func:`friqa.io.load_image` reads (path, PIL image, array).
            ``H`` and ``W`` must be at least 128, as in the toolbox. Values are
            computed in float64 whatever the input dtype.
        params: settings; default :class:`GBVSParams()`.
        **overrides: fields of :class:`GBVSParams` to change, e.g. ``blurfrac=0``.

    Returns:
        ``(H, W)`` or ``(N, H, W)`` maps in [0, 1] (max exactly 1, min exactly 0
        unless the map is constant), in the input's dtype (float32 for paths
        and arrays) and on its device. Deterministic; not differentiable
        (computed under ``torch.no_grad()``).

    Raises:
        InputError: bad shape, dtype, range, size or parameter.
    """
    p = _resolve_params(params, overrides)
    x, squeeze = _as_batch(image)
    with torch.no_grad():
        out = _gbvs_batch(x, p)
    return out[0] if squeeze else out


def _gbvs_batch(x: torch.Tensor, p: GBVSParams) -> torch.Tensor:
    """The whole pipeline on a checked (N, C, H, W) batch; returns (N, H, W)."""
    n, _, h, w = x.shape
    out_dtype = x.dtype
    x = x.to(_F64).clamp(0.0, 1.0)  # check_batch allows round-off just outside [0, 1]
    grid = saliency_grid_size(h, w, p.salmapmaxsize)

    maps, channel_ids, channel_weights = _feature_maps(x, p, grid)  # (N, K, gh, gw)
    k = maps.shape[1]
    flat = maps.reshape(n * k, -1)

    act = _graph_equilibrium(flat, grid, p.sigma_frac_act, 1, "difference", p)
    if p.normalization_type == 1:
        norm = act.pow(1.5)
    else:
        norm = _graph_equilibrium(act, grid, p.sigma_frac_norm, p.num_norm_iters, "mass", p)
    norm = norm.reshape(n, k, -1)

    master = torch.zeros(n, norm.shape[-1], dtype=_F64, device=x.device)
    for cid, weight in enumerate(channel_weights):
        sel = [i for i, c_ in enumerate(channel_ids) if c_ == cid]
        if not sel:
            continue
        cmap = norm[:, sel].sum(dim=1)
        if p.normalize_top_channel_maps:
            if p.normalization_type == 1:
                cmap = cmap.pow(1.5)
            else:
                cmap = _graph_equilibrium(
                    cmap, grid, p.sigma_frac_norm, p.num_norm_iters, "mass", p
                )
        master = master + weight * cmap

    master = master.reshape(n, *grid)
    master = _mat2gray(_attenuate_borders(master, 4))
    if p.blurfrac > 0:
        master = _mat2gray(_gaussian_blur(master, max(grid) * p.blurfrac))
    return _mat2gray(_imresize(master, (h, w))).to(out_dtype)


# ----------------------------------------------------------------------------- input


def _resolve_params(params: GBVSParams | None, overrides: dict[str, Any]) -> GBVSParams:
    p = params if params is not None else GBVSParams()
    if not isinstance(p, GBVSParams):
        raise InputError(f"params must be a GBVSParams, got {type(p).__name__}")
    if overrides:
        names = {f.name for f in dataclasses.fields(GBVSParams)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise InputError(f"unknown GBVS parameter(s) {unknown}; valid names: {sorted(names)}")
        p = dataclasses.replace(p, **overrides)
    return p


def _as_batch(image: Any) -> tuple[torch.Tensor, bool]:
    if not isinstance(image, torch.Tensor):
        from friqa.io import load_image  # paths, PIL images, arrays -> (3, H, W)

        image = load_image(image)
    squeeze = image.ndim == 3
    x = check_batch(
        image.unsqueeze(0) if squeeze else image, "image", channels=None, min_size=_MIN_SIDE
    )
    if x.shape[1] not in (1, 3):
        raise InputError(f"image: expected 1 or 3 channels, got shape {tuple(x.shape)}")
    return x, squeeze


# ----------------------------------------------------------------------------- features


def _feature_maps(
    x: torch.Tensor, p: GBVSParams, grid: tuple[int, int]
) -> tuple[torch.Tensor, list[int], list[float]]:
    """All feature maps on the grid: (N, K, gh, gw), channel index of each, channel weights."""
    color = x.shape[1] == 3
    intensity = x.max(dim=1, keepdim=True).values if color else x
    planes = torch.cat([x, intensity], dim=1) if color else intensity  # R, G, B, I
    pyramid: dict[int, torch.Tensor] = {}
    cur = planes
    for level in range(1, max(p.levels) + 1):
        cur = _subsample(cur)
        pyramid[level] = cur

    names = [ch for ch in p.channels if ch != "D" or color]
    weights = {"D": p.dklcolor_weight, "I": p.intensity_weight, "O": p.orientation_weight}
    gabors = _gabor_bank(p.gabor_angles, x.device)

    maps: list[torch.Tensor] = []
    ids: list[int] = []
    for cid, ch in enumerate(names):
        for level in p.levels:
            lv = pyramid[level]
            if ch == "D":
                fm = _rgb_to_dkl(lv[:, :3], p.dkl_linearize)
            elif ch == "I":
                fm = lv[:, -1:]
            else:
                fm = _orientation_maps(lv[:, -1:], gabors)
            maps.append(_imresize(fm, grid))
            ids.extend([cid] * fm.shape[1])
    return torch.cat(maps, dim=1), ids, [weights[ch] for ch in names]


def _subsample(x: torch.Tensor) -> torch.Tensor:
    """Low-pass [1 5 10 10 5 1] and decimate by 2 in both axes (toolbox ``mySubsample``).

    Output ``k`` is centred at input ``2k + 0.5``; taps falling outside the map
    are dropped and the remaining weights renormalised. Maps with a side <= 10
    are returned unchanged, as in the toolbox.
    """
    h, w = x.shape[-2:]
    if h <= 10 or w <= 10:
        return x
    return _decimate(_decimate(x, -1), -2)


def _decimate(x: torch.Tensor, dim: int) -> torch.Tensor:
    n, c, h, w = x.shape
    k = torch.tensor(_LOWPASS6, dtype=x.dtype, device=x.device)
    if dim == -1:
        weight, stride, pad, length = k.view(1, 1, 1, 6), (1, 2), (2, 3, 0, 0), w
    else:
        weight, stride, pad, length = k.view(1, 1, 6, 1), (2, 1), (0, 0, 2, 3), h
    flat = F.pad(x.reshape(n * c, 1, h, w), pad)
    out = F.conv2d(flat, weight, stride=stride)
    ones = torch.ones((1, 1, 1, w) if dim == -1 else (1, 1, h, 1), dtype=x.dtype, device=x.device)
    norm = F.conv2d(F.pad(ones, pad), weight, stride=stride)
    out = out / norm
    keep = length // 2
    out = out[..., :keep] if dim == -1 else out[..., :keep, :]
    return out.reshape(n, c, *out.shape[-2:])


def _rgb_to_dkl(rgb: torch.Tensor, linearize: bool) -> torch.Tensor:
    """(N, 3, h, w) RGB in [0, 1] -> DKL (luminance, L-M, S-(L+M)) axes."""
    if linearize:
        rgb = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055).pow(2.4))
    m = torch.tensor(_RGB_TO_LMS, dtype=rgb.dtype, device=rgb.device)
    l0, m0, s0 = _LMS_BACKGROUND
    lms = torch.einsum("ij,njhw->nihw", m, rgb)
    lms = lms - torch.tensor(_LMS_BACKGROUND, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    fac = 1.0 / (l0 + m0)
    r = math.hypot(l0, m0)
    to_dkl = torch.tensor(
        [
            [math.sqrt(3.0) * fac, math.sqrt(3.0) * fac, 0.0],
            [r / l0 * fac, -r / m0 * fac, 0.0],
            [-fac, -fac, (l0 + m0) / s0 * fac],
        ],
        dtype=rgb.dtype,
        device=rgb.device,
    )
    to_dkl = to_dkl * torch.tensor(_DKL_SCALES, dtype=rgb.dtype, device=rgb.device).view(3, 1)
    return torch.einsum("ij,njhw->nihw", to_dkl, lms)


def _gabor_bank(angles: tuple[float, ...], device: torch.device) -> torch.Tensor:
    """(2A, 1, 27, 27) zero-mean, unit-norm Gabor kernels, phases 0 and 90 per angle.

    Std 2 px across the stripes, 4 px along them, period pi px (toolbox
    ``makeGaborFilterGBVS`` with its ``initGBVS`` settings).
    """
    stddev, elongation, period = 2.0, 2.0, math.pi
    half = math.ceil(max(stddev, stddev * elongation) * math.sqrt(10.0))
    coords = torch.arange(-half, half + 1, dtype=_F64, device=device)
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")
    kernels = []
    for angle in angles:
        theta = math.radians(angle)
        co, si = math.cos(theta), -math.sin(theta)
        major = yy * co + xx * si
        minor = yy * si - xx * co
        envelope = torch.exp(
            -(major**2) / (2 * stddev**2) - minor**2 / (2 * (stddev * elongation) ** 2)
        )
        for phase in (0.0, 90.0):
            g = torch.cos(2 * math.pi / period * major + math.radians(phase)) * envelope
            g = g - g.mean()
            kernels.append(g / g.square().sum().sqrt())
    return torch.stack(kernels).unsqueeze(1)


def _orientation_maps(intensity: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
    """|I * g0| + |I * g90| per angle (true convolution, replicated borders), borders attenuated."""
    half = bank.shape[-1] // 2
    padded = F.pad(intensity, (half, half, half, half), mode="replicate")
    resp = F.conv2d(padded, torch.flip(bank, dims=(-2, -1))).abs()
    resp = resp[:, 0::2] + resp[:, 1::2]
    return _attenuate_borders(resp, 13)


def _attenuate_borders(x: torch.Tensor, border: int) -> torch.Tensor:
    """Linear ramp ``k / (border + 1)`` over ``border`` rows/cols on each side (corners twice)."""
    h, w = x.shape[-2:]
    if 2 * border > h:
        border = h // 2
    if 2 * border > w:
        border = w // 2
    if border < 1:
        return x
    ramp = torch.arange(1, border + 1, dtype=x.dtype, device=x.device) / (border + 1)
    fr = torch.ones(h, dtype=x.dtype, device=x.device)
    fc = torch.ones(w, dtype=x.dtype, device=x.device)
    fr[:border] *= ramp
    fr[h - border :] *= ramp.flip(0)
    fc[:border] *= ramp
    fc[w - border :] *= ramp.flip(0)
    return x * fr.view(h, 1) * fc.view(1, w)


# ----------------------------------------------------------------------------- resizing


def _cubic(t: torch.Tensor) -> torch.Tensor:
    """Keys cubic kernel with a = -0.5 (MATLAB ``imresize`` 'bicubic')."""
    a = t.abs()
    a2, a3 = a * a, a * a * a
    near = (1.5 * a3 - 2.5 * a2 + 1.0) * (a <= 1)
    far = (-0.5 * a3 + 2.5 * a2 - 4.0 * a + 2.0) * ((a > 1) & (a <= 2))
    return near + far


def _resize_matrix(n_in: int, n_out: int, device: torch.device) -> torch.Tensor:
    """(n_out, n_in) bicubic interpolation matrix following MATLAB ``imresize``.

    Antialiased when shrinking (kernel stretched by 1/scale), half-pixel
    centres, symmetric (mirror) boundary.
    """
    scale = n_out / n_in
    kscale = min(scale, 1.0)
    width = 4.0 / kscale
    x = torch.arange(1, n_out + 1, dtype=_F64, device=device)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = torch.floor(u - width / 2)
    taps = math.ceil(width) + 2
    ind = left.unsqueeze(1) + torch.arange(taps, dtype=_F64, device=device).unsqueeze(0)
    wts = kscale * _cubic(kscale * (u.unsqueeze(1) - ind))
    wts = wts / wts.sum(dim=1, keepdim=True)
    pos = torch.remainder(ind.long() - 1, 2 * n_in)
    src = torch.where(pos < n_in, pos, 2 * n_in - 1 - pos)
    mat = torch.zeros(n_out, n_in, dtype=_F64, device=device)
    mat.scatter_add_(1, src, wts)
    return mat


def _imresize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize the last two dims of a float64 tensor to ``size`` (MATLAB bicubic)."""
    h, w = x.shape[-2:]
    if (h, w) == tuple(size):
        return x
    rh = _resize_matrix(h, size[0], x.device)
    rw = _resize_matrix(w, size[1], x.device)
    return rh @ x @ rw.T


def _gaussian_blur(x: torch.Tensor, std: float) -> torch.Tensor:
    """Separable Gaussian (radius ``round(2 std)``), replicated borders (toolbox final blur)."""
    radius = _round_half_away(2 * std)
    if radius < 1:
        return x
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-(t**2) / (2 * std**2))
    k = k / k.sum()
    shape = x.shape
    y = x.reshape(-1, 1, *shape[-2:])
    y = F.conv2d(F.pad(y, (radius, radius, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    y = F.conv2d(F.pad(y, (0, 0, radius, radius), mode="replicate"), k.view(1, 1, -1, 1))
    return y.reshape(shape)


# ----------------------------------------------------------------------------- graph


def _grid_sq_distances(
    grid: tuple[int, int], cyclic_type: int, device: torch.device
) -> torch.Tensor:
    """(P, P) squared Euclidean distances between grid nodes (row-major order)."""
    gh, gw = grid
    rr, cc = torch.meshgrid(
        torch.arange(gh, dtype=_F64, device=device),
        torch.arange(gw, dtype=_F64, device=device),
        indexing="ij",
    )
    r, c = rr.reshape(-1), cc.reshape(-1)
    dr = (r.unsqueeze(0) - r.unsqueeze(1)).abs()
    dc = (c.unsqueeze(0) - c.unsqueeze(1)).abs()
    if cyclic_type == 1:
        dr = torch.minimum(dr, (dr - gh).abs())
        dc = torch.minimum(dc, (dc - gw).abs())
    return dr**2 + dc**2


def _graph_equilibrium(
    maps: torch.Tensor,
    grid: tuple[int, int],
    sigma_frac: float,
    iters: int,
    rule: str,
    p: GBVSParams,
) -> torch.Tensor:
    """Equilibrium distribution of the GBVS Markov chain for each row of ``maps`` (B, P).

    ``rule="difference"``: ``w(i->j) = |a_i - a_j| * falloff`` (activation);
    ``rule="mass"``: ``w(i->j) = a_j * falloff`` (graph-based normalisation).
    Each map is first rescaled to [0, 1] (``mat2gray``, toolbox ``formMapPyramid``).
    Rows are processed in chunks to bound memory (P x P float64 per map).
    """
    b, n_nodes = maps.shape
    sigma = sigma_frac * (grid[0] + grid[1]) / 2
    falloff = torch.exp(-_grid_sq_distances(grid, p.cyclic_type, maps.device) / (2 * sigma**2))
    a = _mat2gray(maps.reshape(b, *grid)).reshape(b, n_nodes)
    a = torch.where(a.amax(dim=1, keepdim=True) == 0, a + 1e-12, a)
    chunk = max(1, int(2**27 // (8 * n_nodes * n_nodes)))  # ~128 MB of weights per chunk
    out = []
    for start in range(0, b, chunk):
        v = a[start : start + chunk]
        for _ in range(iters):
            v = _equilibrium_chunk(v, falloff, rule, p.tol, p.max_iters)
        out.append(v)
    return torch.cat(out, dim=0)


def _equilibrium_chunk(
    a: torch.Tensor, falloff: torch.Tensor, rule: str, tol: float, max_iters: int
) -> torch.Tensor:
    if rule == "difference":
        markov = a.unsqueeze(2) - a.unsqueeze(1)
        markov.abs_().mul_(falloff)  # symmetric
    else:
        markov = a.unsqueeze(2) * falloff  # [r, c]: weight of the move c -> r, prop. to a_r
    col = markov.sum(dim=1, keepdim=True)
    markov.div_(torch.where(col > 0, col, torch.ones_like(col)))  # columns sum to 1
    n_nodes = a.shape[1]
    v = torch.full((a.shape[0], n_nodes, 1), 1.0 / n_nodes, dtype=a.dtype, device=a.device)
    active = torch.ones(a.shape[0], dtype=torch.bool, device=a.device)
    for _ in range(max_iters):
        nxt = torch.bmm(markov, v)
        change = (nxt - v).square().sum(dim=(1, 2)).sqrt()
        v = torch.where(active.view(-1, 1, 1), nxt, v)
        active = active & (change > tol)
        if not bool(active.any()):
            break
    v = v.squeeze(2)
    total = v.sum(dim=1, keepdim=True)
    uniform = torch.full_like(v, 1.0 / n_nodes)
    return torch.where(
        total > 0, v / torch.where(total > 0, total, torch.ones_like(total)), uniform
    )


# ----------------------------------------------------------------------------- helpers


def _mat2gray(x: torch.Tensor) -> torch.Tensor:
    """Rescale each map (last two dims) linearly to [0, 1]; constant maps become 0."""
    lo = x.amin(dim=(-2, -1), keepdim=True)
    hi = x.amax(dim=(-2, -1), keepdim=True)
    span = hi - lo
    return torch.where(
        span > 0, (x - lo) / torch.where(span > 0, span, torch.ones_like(span)), 0.0 * x
    )


def _round_half_away(v: float) -> int:
    """MATLAB ``round`` (halves away from zero) for non-negative values."""
    return int(math.floor(v + 0.5))
