#!/bin/sh
# Regenerates windowszones.xml from Debian's unicode-cldr-core (run by go generate).
set -eu
src=/usr/share/unicode/cldr/common/supplemental/windowsZones.xml
ver=$(dpkg-query -W -f='${Version}' unicode-cldr-core)
{
	echo '<?xml version="1.0" encoding="UTF-8" ?>'
	echo "<!-- ExoCal data file: CLDR windowsZones (Windows time zone id -> IANA), copied verbatim below."
	echo "     CLDR version: $ver (Debian package unicode-cldr-core $ver)."
	echo "     Source: $src"
	echo "     Upstream: https://github.com/unicode-org/cldr/blob/main/common/supplemental/windowsZones.xml"
	echo "     Regenerate with: go generate ./sync/calendar -->"
	tail -n +2 "$src"
} > windowszones.xml
