#!/bin/sh
# Prints when the image was built.
cat /srv/app/BUILT
