"""The kinematic prior of the odometry head: what the raw wheel and gyro samples integrate to.

A differential drive's wheels and a gyro already give a good step estimate by plain
integration; what they cannot give is a correction for what they get wrong (a slipping
wheel, the gyro's bias). So when the wheel or IMU modality is on, the head predicts a
*residual* on top of this prior, and also sees the prior's parts as a token: the wheel-only
and the gyro heading of each step, whose disagreement is how slip shows. The prior uses the
calibrated wheel radius and track width, the same numbers dead reckoning uses, so the head
starts exactly where the classical baseline is and training can only be judged by what it
adds.
"""

from __future__ import annotations

import torch

PRIOR_FEATURES = 6
"""Per-step prior features: the base step (3), the wheel and gyro headings, their gap."""

# Scales of the features: steps in ~0.1 m / 0.1 rad; the heading gap is ~1e-3 rad without
# slip (quantisation, gyro bias) and ~1e-2 rad with it.
_STEP_SCALE = 10.0
_GAP_SCALE = 300.0


def arc_steps(ds: torch.Tensor, dyaw: torch.Tensor) -> torch.Tensor:
    """Compose per-sample arcs (..., M) of length ``ds`` turning ``dyaw`` into (..., 3)."""
    yaw_before = torch.cumsum(dyaw, -1) - dyaw
    chord = ds * torch.sinc(dyaw / (2 * torch.pi))
    heading = yaw_before + 0.5 * dyaw
    x = (chord * torch.cos(heading)).sum(-1)
    y = (chord * torch.sin(heading)).sum(-1)
    return torch.stack([x, y, dyaw.sum(-1)], -1)


def kinematic_prior(
    wheel: torch.Tensor | None,
    imu: torch.Tensor | None,
    wheel_radius: float,
    track_width: float,
    imu_hz: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The prior step and its features for steps of raw samples.

    Args:
        wheel: (B, S, M, 2) wheel angle increments, or None (modality off).
        imu: (B, S, K, 6) IMU samples with K a multiple of M, or None.
    Returns:
        base (B, S, 3): wheel distances with the gyro heading (the IMU's when on, else the
        wheels'); with no wheels, no translation and the gyro heading.
        features (B, S, PRIOR_FEATURES).
    """
    if wheel is None and imu is None:
        raise ValueError("the kinematic prior needs the wheel or the IMU samples")
    ref = wheel if wheel is not None else imu
    b, s = ref.shape[:2]
    zeros = ref.new_zeros(b, s).float()
    gyro_yaw = wheel_yaw = None
    if imu is not None:
        gz = imu[..., 5].float()
        if wheel is not None:
            m = wheel.shape[2]
            if gz.shape[-1] % m:
                raise ValueError(
                    f"IMU samples per step ({gz.shape[-1]}) must be a multiple of the wheel "
                    f"samples ({m})"
                )
            gz = gz.reshape(b, s, m, -1).sum(-1)
        else:
            gz = gz.sum(-1, keepdim=True)
        gyro_dyaw = gz / imu_hz
        gyro_yaw = gyro_dyaw.sum(-1)
    if wheel is not None:
        w = wheel.float() * wheel_radius
        ds = 0.5 * (w[..., 0] + w[..., 1])
        wheel_dyaw = (w[..., 1] - w[..., 0]) / track_width
        wheel_yaw = wheel_dyaw.sum(-1)
        base = arc_steps(ds, gyro_dyaw if imu is not None else wheel_dyaw)
    else:
        base = torch.stack([zeros, zeros, gyro_yaw], -1)
    gap = wheel_yaw - gyro_yaw if (wheel_yaw is not None and gyro_yaw is not None) else zeros
    features = torch.cat(
        [
            base * _STEP_SCALE,
            torch.stack(
                [
                    (wheel_yaw if wheel_yaw is not None else zeros) * _STEP_SCALE,
                    (gyro_yaw if gyro_yaw is not None else zeros) * _STEP_SCALE,
                    gap * _GAP_SCALE,
                ],
                -1,
            ),
        ],
        -1,
    )
    return base, features


__all__ = ["PRIOR_FEATURES", "arc_steps", "kinematic_prior"]
