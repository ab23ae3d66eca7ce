"""What the measurement scripts beside this file share: reading an autoeval -write folder and -json records, and the PSNR."""
import os

import numpy as np


PROMPT = ["blur", "noise", "jpeg", "rain", "haze", "dark", "sr"]  # degrade.Task.PromptIndex order: a record's Gain


def input_name(record):
    """The file name autoeval -write gives the degraded input of a -json record."""
    return record["Image"].replace("#", "-") + "_" + record["Case"].replace(" ", "-") + ".png"


def manifest(folder, task=None):
    """The rows of folder's manifest.tsv (input, task, clean crop, case), only task's when given."""
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(folder, "manifest.tsv")) if l.strip()]
    return [r for r in rows if task is None or r[1] == task]


def psnr(a, b):
    """PSNR (dB) of two 0-255 images with 4 pixels cut from each border, as autoeval measures; inf when equal."""
    m = ((a[4:-4, 4:-4].astype(np.float64) - b[4:-4, 4:-4]) ** 2).mean()
    return 10 * np.log10(255**2 / m) if m > 0 else np.inf
