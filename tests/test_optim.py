import math

import torch

from models.optim import AdamATan2, sign_sgd_rows_


def test_adam_atan2_follows_the_published_update_rule():
    torch.manual_seed(0)
    p = torch.randn(5, dtype=torch.float64, requires_grad=True)
    opt = AdamATan2([p], lr=0.01, betas=(0.9, 0.95), weight_decay=0.1)
    ref, m, v = p.detach().clone(), torch.zeros(5, dtype=torch.float64), torch.zeros(5, dtype=torch.float64)
    for t in range(1, 6):
        g = torch.randn(5, dtype=torch.float64)
        p.grad = g.clone()
        opt.step()
        ref *= 1 - 0.01 * 0.1
        m = m + 0.1 * (g - m)
        v = v + 0.05 * (g * g - v)
        ref -= 0.01 / (1 - 0.9**t) * torch.atan2(m, v.sqrt() / math.sqrt(1 - 0.95**t))
        torch.testing.assert_close(p.detach(), ref, rtol=1e-12, atol=1e-12)


def test_adam_atan2_first_step_is_bounded_and_scale_free():
    for scale in (1e-8, 1.0, 1e8):
        p = torch.zeros(3, requires_grad=True)
        p.grad = torch.tensor([1.0, -2.0, 0.0]) * scale
        AdamATan2([p], lr=0.1, weight_decay=0.0).step()
        # step 1: m = 0.1 g, sqrt(v)/sqrt(1-b2) = |g| -> atan2(0.1 g, |g|) / 0.1 ~ atan(0.1)/0.1 ~ 0.9967
        expected = -0.1 / 0.1 * math.atan(0.1)
        torch.testing.assert_close(p.detach(), torch.tensor([expected, -expected, 0.0]), rtol=1e-5, atol=1e-7)


def test_sign_sgd_rows_sums_repeated_ids_and_decays_only_touched_rows():
    w = torch.ones(4, 2)
    ids = torch.tensor([1, 3, 1])
    grads = torch.tensor([[1.0, -1.0], [-2.0, 0.0], [-3.0, 2.0]])
    sign_sgd_rows_(w, ids, grads, lr=0.1, weight_decay=0.5)
    # row 1: grad sum (-2, 1) -> sign (-1, 1); row 3: sign (-1, 0)
    torch.testing.assert_close(w, torch.tensor([[1.0, 1.0], [1.05, 0.85], [1.0, 1.0], [1.05, 0.95]]))
