"""Batched face augmentation on tensors: geometry, photometry, resolution and occlusion."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def augment_faces(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """x: (N, 1, H, W) float grey levels 0..255 -> augmented copy, same shape and range.

    Chosen for faces from video: small rotations, shifts and scale (alignment error),
    horizontal flip (expressions are near-symmetric), gamma/contrast (lighting),
    down-up sampling (low-resolution sources) and random erasing (hands, glasses).
    """
    n, _, h, w = x.shape
    dev = x.device

    def uniform(lo: float, hi: float, size=(n,)) -> torch.Tensor:
        return torch.rand(size, generator=generator, device=dev) * (hi - lo) + lo

    angle = uniform(-15, 15) * math.pi / 180
    scale = uniform(0.88, 1.12)
    flip = torch.where(torch.rand(n, generator=generator, device=dev) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos * flip, -sin, uniform(-0.1, 0.1)], dim=1),
            torch.stack([sin * flip, cos, uniform(-0.1, 0.1)], dim=1),
        ],
        dim=1,
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    # Lighting: gamma then contrast/brightness, clipped to valid grey levels.
    gamma = torch.exp(uniform(-0.4, 0.4)).view(n, 1, 1, 1)
    out = 255.0 * (out.clamp(0, 255) / 255.0) ** gamma
    contrast = uniform(0.7, 1.3).view(n, 1, 1, 1)
    bright = uniform(-25, 25).view(n, 1, 1, 1)
    mean = out.mean(dim=(2, 3), keepdim=True)
    out = ((out - mean) * contrast + mean + bright).clamp(0, 255)

    # Resolution: a third of the batch goes through a 20..40 px bottleneck.
    low = torch.rand(n, generator=generator, device=dev) < 0.33
    if low.any():
        side = int(torch.randint(20, 41, (1,), generator=generator, device=dev).item())
        small = F.interpolate(out[low], size=(side, side), mode="area")
        out[low] = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)

    # Random erasing: half the batch gets one rectangle of 2..20% area filled with noise.
    erase = torch.rand(n, generator=generator, device=dev) < 0.5
    area = uniform(0.02, 0.2) * h * w
    aspect = torch.exp(uniform(math.log(0.3), math.log(3.3)))
    eh = (area * aspect).sqrt().clamp(1, h - 1).long()
    ew = (area / aspect).sqrt().clamp(1, w - 1).long()
    top = (torch.rand(n, generator=generator, device=dev) * (h - eh)).long()
    left = (torch.rand(n, generator=generator, device=dev) * (w - ew)).long()
    rows = torch.arange(h, device=dev).view(1, h, 1)
    cols = torch.arange(w, device=dev).view(1, 1, w)
    mask = (
        (rows >= top.view(n, 1, 1))
        & (rows < (top + eh).view(n, 1, 1))
        & (cols >= left.view(n, 1, 1))
        & (cols < (left + ew).view(n, 1, 1))
        & erase.view(n, 1, 1)
    )
    noise = torch.rand(x.shape, generator=generator, device=dev) * 255
    return torch.where(mask.unsqueeze(1), noise, out)
