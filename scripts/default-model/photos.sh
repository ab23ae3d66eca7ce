#!/bin/bash
# Gathers the default model's 35 training photos into WORK/photos and four
# extra held-out photos into WORK/heldout-extra, from Debian packages only (their
# licences: mioir/pretrained/NOTICE.md). The packages are downloaded and
# unpacked into WORK/debs, not installed. Large photos are shrunk to 1536
# pixels on their longer side (scripts/default-model/shrink).
#
#   bash scripts/default-model/photos.sh WORK
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:?usage: photos.sh WORK}
mkdir -p "$work/debs" "$work/photos" "$work/heldout-extra"
x=$work/debs/x
if [ ! -d "$x/python3-skimage" ]; then
	(cd "$work/debs" && apt-get download python3-skimage lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 mate-backgrounds)
	for f in "$work"/debs/*.deb; do
		d=$(basename "$f"); d=${d%%_*}
		mkdir -p "$x/$d" && dpkg-deb -x "$f" "$x/$d"
	done
fi
skd=$x/python3-skimage/usr/lib/python3/dist-packages/skimage/data
lom=$x/lomiri-wallpapers-16.04/usr/share/backgrounds
lom20=$x/lomiri-wallpapers-20.04/usr/share/backgrounds
mate=$x/mate-backgrounds/usr/share/backgrounds/mate/nature

# scikit-image's photos, as before (small: copied as they are).
for f in astronaut brick camera chelsea coins grass gravel ihc text; do cp "$skd/$f.png" "$work/photos/"; done
cp "$skd/hubble_deep_field.jpg" "$skd/retina.jpg" "$work/photos/"

# The Lomiri (Ubuntu Touch) wallpaper photos and MATE's nature photos; four
# of them are held out for measurements only.
heldout="friends_by_Aitzol_Berasategi picosdeeuropa_by_Aitzol_Berasategi Picture_0B_by_freespace LadyBird"
train=()
held=()
for f in "$lom"/*.jpg "$lom20/Kleiber_by_Lukas_Baubkus.jpg" "$mate"/*.jpg; do
	b=$(basename "$f" .jpg)
	if [[ " $heldout " == *" $b "* ]]; then held+=("$f"); else train+=("$f"); fi
done
go run ./scripts/default-model/shrink -max 1536 -dst "$work/photos" "${train[@]}"
go run ./scripts/default-model/shrink -max 1536 -dst "$work/heldout-extra" "${held[@]}"
