#!/bin/sh
echo "cannot post-render" >&2
exit 4
