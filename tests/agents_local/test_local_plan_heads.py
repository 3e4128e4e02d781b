"""The three planning heads on tiny configs: declared shapes, and a few steps lower the loss."""

import pytest
import torch

from astra_sim.agents.astra_local.planner import PlannerConfig, build_planner
from astra_sim.core.errors import UnknownNameError

HEADS = ("flow", "act", "diffusion")
torch.set_num_threads(1)  # the test machine's cores are shared


def tiny(head: str, **kw) -> PlannerConfig:
    return PlannerConfig(
        head=head, d_model=32, heads=2, enc_layers=1, dec_layers=1, patch=8,
        bev={"size": 16, "cell_size": 0.3}, **kw,
    )  # fmt: skip


def batch(cfg: PlannerConfig, b: int = 6, seed: int = 0) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    n = cfg.bev.size
    steps = torch.zeros(b, cfg.horizon, 3)
    steps[..., 0] = 0.15 + 0.05 * torch.rand(b, 1, generator=gen)
    steps[..., 2] = 0.2 * torch.randn(b, 1, generator=gen)
    return {
        "bev": torch.rand(b, cfg.bev.channels, n, n, generator=gen),
        "occupancy": (torch.rand(b, n, n, generator=gen) > 0.8).float(),
        "velocity": torch.rand(b, 2, generator=gen),
        "goal": 3 * torch.randn(b, 2, generator=gen),
        "steps": steps,
        "esdf": 0.1 + torch.rand(b, n, n, generator=gen),
    }


@pytest.mark.parametrize("head", HEADS)
def test_forward_shapes(head):
    torch.manual_seed(0)
    cfg = tiny(head)
    model = build_planner(cfg)
    data = batch(cfg)
    memory = model.encoder(data)
    assert memory.shape == (6, 2 * (16 // 8) ** 2 + 2, 32)
    loss, info = model.loss(data, torch.Generator().manual_seed(1))
    assert loss.shape == () and torch.isfinite(loss)
    assert "loss/esdf" in info and "loss/total" in info
    plan = model.sample(data, torch.Generator().manual_seed(2))
    assert plan.shape == (6, cfg.horizon, 3) and torch.isfinite(plan).all()
    again = model.sample(data, torch.Generator().manual_seed(2))
    torch.testing.assert_close(plan, again)  # seeded sampling is reproducible


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("esdf", [True, False])
def test_a_few_steps_lower_the_loss(head, esdf):
    torch.manual_seed(0)
    cfg = tiny(head, esdf={"enabled": esdf, "weight": 5.0})
    model = build_planner(cfg)
    data = batch(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def loss_now() -> float:
        # The same noise every time: the objective is fixed, so the drop is the learning.
        with torch.no_grad():
            return float(model.loss(data, torch.Generator().manual_seed(3))[0])

    before = loss_now()
    for _ in range(12):
        loss, _ = model.loss(data, torch.Generator().manual_seed(3))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss_now() < 0.8 * before


def test_esdf_switch_and_unknown_head():
    cfg = tiny("flow", esdf={"enabled": False})
    model = build_planner(cfg)
    _, info = model.loss(batch(cfg), torch.Generator().manual_seed(0))
    assert "loss/esdf" not in info
    with pytest.raises(UnknownNameError):
        PlannerConfig(head="mpc")
    with pytest.raises(ValueError, match="patch"):
        PlannerConfig(patch=5)


def test_flow_rollout_estimate_is_what_sampling_returns():
    """From t = 0 the ESDF rollout integrates exactly the sampler's Euler steps."""
    torch.manual_seed(0)
    cfg = tiny("flow", flow_esdf_rollout=True)
    model = build_planner(cfg).eval()
    data = batch(cfg, b=3)
    with torch.no_grad():
        memory = model.encoder(data)
        x0 = torch.randn(3, cfg.horizon, 3, generator=torch.Generator().manual_seed(4))
        t = torch.zeros(3)
        rolled = model.rollout(x0, t, model.velocity(x0, t, memory), memory)
        sampled = model.sample(data, torch.Generator().manual_seed(4))
    torch.testing.assert_close(model.denormalize(rolled), sampled)
    # And the rollout carries gradients into the head for the ESDF term.
    model.train()
    loss, info = model.loss(data, torch.Generator().manual_seed(1))
    loss.backward()
    assert "loss/esdf" in info
    assert all(p.grad is not None for p in model.decoder.parameters())
