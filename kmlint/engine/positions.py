"""Positions are computed only for files that have findings: PositionProvider
costs about 3x a bare parse, so the hot path never resolves it."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider


def resolve_positions(module: cst.Module):
    # unsafe_skip_copy keeps node identity, so the nodes rules reported are keys
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    return wrapper.resolve(PositionProvider)
