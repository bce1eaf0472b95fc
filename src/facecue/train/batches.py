"""Augmented training batches made in worker processes, so the training thread only trains.

On this project's 2-core machine augmentation on the training thread cost about a third of each epoch.
Each batch depends only on (seed, epoch, step): a resumed run sees the same batches as an unbroken one.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset

from facecue.train.augment import augment_faces


class EpochBatches(Dataset):
    """Item `step` of epoch `epoch`: (faces (B, 1, H, W) float, labels (B,), batch indices (B,))."""

    def __init__(
        self, images: torch.Tensor, labels: torch.Tensor, order: torch.Tensor, batch_size: int, seed: int, epoch: int
    ) -> None:
        self.images, self.labels, self.order = images, labels, order
        self.batch_size, self.seed, self.epoch = batch_size, seed, epoch

    def __len__(self) -> int:
        return (len(self.order) + self.batch_size - 1) // self.batch_size

    def __getitem__(self, step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = self.order[step * self.batch_size : (step + 1) * self.batch_size]
        generator = torch.Generator().manual_seed((self.seed * 100_003 + self.epoch) * 100_003 + step)
        faces = augment_faces(self.images[idx].float().unsqueeze(1), generator)
        return faces, self.labels[idx], idx


def _one_thread(_: int) -> None:
    torch.set_num_threads(1)  # the workers share the machine with the training threads


def epoch_loader(batches: EpochBatches, workers: int) -> DataLoader:
    """Batches in order, `workers` processes ahead of the training loop (0 = on the training thread)."""
    return DataLoader(
        batches,
        batch_size=None,
        shuffle=False,
        num_workers=workers,
        worker_init_fn=_one_thread if workers else None,
        prefetch_factor=4 if workers else None,
    )
