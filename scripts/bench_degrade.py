#!/usr/bin/python3
"""Timing baseline: the MiOIR reference's degradation approach in one Python process.

A re-statement (for timing only, written for gomioir) of what the reference data
scripts do per image: cv2.imread, the seven degradations with numpy / OpenCV /
torch (PyTorch bicubic resize, filter2D-style Gaussian blur via conv2d, Gaussian
noise, a DiffJPEG-style JPEG model, OpenCV rain streaks, haze from a quarter-size
depth map, gamma), the 8-bit quantisation, and cv2.imwrite of GT and each LQ.

usage: bench_degrade.py IN_DIR OUT_DIR [--threads N]
Prints one line: "python images=N seconds=S images_per_s=R threads=T".
"""
import argparse
import itertools
import math
import os
import random
import sys
import time

import cv2
import numpy as np
import torch
import torch.nn.functional as F


def to_tensor(img):
    t = torch.from_numpy(np.ascontiguousarray(img[:, :, ::-1].transpose(2, 0, 1).astype(np.float32))).unsqueeze(0) / 255.
    return quant(t)


def quant(t):
    return torch.clamp(torch.round(t * 255.), 0, 255) / 255.


def to_img(t):
    a = t.squeeze(0).clamp(0, 1).numpy().transpose(1, 2, 0)[:, :, ::-1]
    return (a * 255.0).round().astype(np.uint8)


def sr(t):
    h, w = t.shape[-2:]
    lr = F.interpolate(t, scale_factor=0.25, mode='bicubic')
    return F.interpolate(lr, size=(h, w), mode='bicubic')


def blur(t, ks, sigma):
    ax = np.arange(-(ks // 2), ks // 2 + 1, dtype=np.float64)
    xx, yy = np.meshgrid(ax, ax)
    k = np.exp(-0.5 * (xx ** 2 + yy ** 2) / sigma ** 2)
    k = torch.from_numpy((k / k.sum()).astype(np.float32))
    p = ks // 2
    x = F.pad(t, (p, p, p, p), mode='reflect')
    b, c, h, w = x.shape
    return F.conv2d(x.view(1, b * c, h, w), k.view(1, 1, ks, ks).repeat(b * c, 1, 1, 1), groups=b * c).view(b, c, h - 2 * p, w - 2 * p)


def noise(t, sigma):
    return torch.clamp(t + torch.randn(*t.shape) * sigma / 255., 0, 1)


Y_T = torch.tensor([[16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55],
                    [14, 13, 16, 24, 40, 57, 69, 56], [14, 17, 22, 29, 51, 87, 80, 62],
                    [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
                    [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]], dtype=torch.float32).t()
C_T = torch.full((8, 8), 99.0)
C_T[:4, :4] = torch.tensor([[17, 18, 24, 47], [18, 21, 26, 66], [24, 26, 56, 99], [47, 66, 99, 99]], dtype=torch.float32).t()
_D = np.zeros((8, 8, 8, 8), dtype=np.float32)
_I = np.zeros((8, 8, 8, 8), dtype=np.float32)
for x, y, u, v in itertools.product(range(8), repeat=4):
    _D[x, y, u, v] = math.cos((2 * x + 1) * u * math.pi / 16) * math.cos((2 * y + 1) * v * math.pi / 16)
    _I[x, y, u, v] = math.cos((2 * u + 1) * x * math.pi / 16) * math.cos((2 * v + 1) * y * math.pi / 16)
DCT_T, IDCT_T = torch.from_numpy(_D), torch.from_numpy(_I)
_al = np.array([1. / math.sqrt(2)] + [1] * 7)
DCT_S = torch.from_numpy(np.outer(_al, _al) * 0.25).float()
IDCT_A = torch.from_numpy(np.outer(_al, _al)).float()
M_FWD = torch.tensor([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]]).t()
M_INV = torch.tensor([[1., 0., 1.402], [1, -0.344136, -0.714136], [1, 1.772, 0]]).t()


def _blocks(x):
    b, h, w = x.shape
    return x.view(b, h // 8, 8, -1, 8).permute(0, 1, 3, 2, 4).contiguous().view(b, -1, 8, 8), h, w


def _merge(x, h, w):
    b = x.shape[0]
    return x.view(b, h // 8, w // 8, 8, 8).permute(0, 1, 3, 2, 4).contiguous().view(b, h, w)


def jpeg(t, q):
    f = (5000. / q) / 100. if q < 50 else (200. - 2 * q) / 100.
    h0, w0 = t.shape[-2:]
    x = F.pad(t.clamp(0, 1), (0, (16 - w0 % 16) % 16, 0, (16 - h0 % 16) % 16))
    img = torch.tensordot(x.permute(0, 2, 3, 1) * 255, M_FWD, dims=1) + torch.tensor([0., 128., 128.])
    y = img[..., 0]
    cb = F.avg_pool2d(img[..., 1].unsqueeze(1), 2).squeeze(1)
    cr = F.avg_pool2d(img[..., 2].unsqueeze(1), 2).squeeze(1)
    out = []
    for comp, tab in ((y, Y_T), (cb, C_T), (cr, C_T)):
        bl, h, w = _blocks(comp)
        d = DCT_S * torch.tensordot(bl - 128, DCT_T, dims=2)
        d = torch.round(d / (tab * f)) * (tab * f)
        r = 0.25 * torch.tensordot(d * IDCT_A, IDCT_T, dims=2) + 128
        out.append(_merge(r, h, w))
    yy, cb, cr = out
    cb = cb.repeat_interleave(2, 1).repeat_interleave(2, 2)
    cr = cr.repeat_interleave(2, 1).repeat_interleave(2, 2)
    ycc = torch.stack([yy, cb, cr], -1)
    rgb = torch.tensordot(ycc + torch.tensor([0, -128., -128.]), M_INV, dims=1).permute(0, 3, 1, 2)
    return (rgb.clamp(0, 255) / 255)[:, :, :h0, :w0]


def rain(img, value, length, angle, w):
    h0, w0 = img.shape[:2]
    n = np.random.uniform(0, 256, (h0, w0))
    n[n < 256 - value * 0.01] = 0
    n = cv2.filter2D(n, -1, np.array([[0, 0.1, 0], [0.1, 8, 0.1], [0, 0.1, 0]]))
    trans = cv2.getRotationMatrix2D((length / 2, length / 2), angle - 45, 1 - length / 100.0)
    k = cv2.warpAffine(np.diag(np.ones(length)), trans, (length, length))
    k = cv2.GaussianBlur(k, (w, w), 0)
    b = cv2.filter2D(n, -1, k)
    cv2.normalize(b, b, 0, 255, cv2.NORM_MINMAX)
    b = np.array(b, dtype=np.uint8)
    b = np.repeat(np.expand_dims(b, 2), 3, 2)
    return np.clip(img.astype('float32') + b, 0, 255)


def haze(img, depth_q, A, B):
    h, w = depth_q.shape
    d = cv2.resize(depth_q, (4 * w, 4 * h))
    d = d / d.max()
    T = np.exp(-B * d)[:, :, None]
    return img * T + 255 * A * (1 - T)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('indir')
    ap.add_argument('outdir')
    ap.add_argument('--threads', type=int, default=0, help='torch intra-op threads (0: leave the default)')
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    names = sorted(f for f in os.listdir(a.indir) if not f.startswith('.'))
    tasks = ['GT', 'sr', 'blur', 'noise', 'jpeg', 'rain', 'haze', 'dark']
    for t in tasks:
        os.makedirs(os.path.join(a.outdir, t), exist_ok=True)
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    start = time.time()
    done = 0
    with torch.no_grad():
        for name in names:
            img = cv2.imread(os.path.join(a.indir, name))
            if img is None:
                continue
            img = img[:img.shape[0] - img.shape[0] % 4, :img.shape[1] - img.shape[1] % 4]
            stem = os.path.splitext(name)[0] + '.png'
            cv2.imwrite(os.path.join(a.outdir, 'GT', stem), img)
            ks = random.choice([7, 9, 11, 13, 15, 17, 19, 21])
            sb, sn, sj, sd = round(random.uniform(1, 3), 2), round(random.uniform(15, 50)), round(random.uniform(30, 70)), round(random.uniform(1, 3), 2)
            t = to_tensor(img)
            outs = {
                'sr': quant(sr(t)),
                'blur': quant(blur(t, ks, sb)),
                'noise': quant(noise(t, sn)),
                'jpeg': quant(jpeg(t, sj)),
                'dark': quant(torch.from_numpy(np.power(t.numpy(), sd))),
            }
            r = rain(img, np.random.randint(50, 100), np.random.randint(20, 41), np.random.randint(-45, 45), np.random.choice([3, 5, 7, 9, 11]))
            outs['rain'] = quant(torch.from_numpy(np.ascontiguousarray(r[:, :, ::-1].transpose(2, 0, 1))).unsqueeze(0) / 255.)
            hq, wq = img.shape[0] // 4, img.shape[1] // 4
            yy, xx = np.mgrid[0:hq, 0:wq]
            depth = 0.25 + 0.6 * yy / max(hq - 1, 1) + 0.12 * np.sin(2 * np.pi * 1.5 * xx / max(wq - 1, 1))
            hz = haze(img, depth, round(random.uniform(0.8, 1.0), 2), round(random.uniform(0.5, 2.5), 2))
            outs['haze'] = quant(torch.from_numpy(np.ascontiguousarray(hz[:, :, ::-1].transpose(2, 0, 1).astype(np.float32))).unsqueeze(0) / 255.)
            for k, v in outs.items():
                cv2.imwrite(os.path.join(a.outdir, k, stem), to_img(v))
            done += 1
    el = time.time() - start
    print('python images=%d seconds=%.3f images_per_s=%.3f threads=%d' % (done, el, done / el, torch.get_num_threads()))


if __name__ == '__main__':
    sys.exit(main())
