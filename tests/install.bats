#!/usr/bin/env bats
# make install puts every tool and every page where PREFIX/DESTDIR say.

load helpers

@test "make install honours PREFIX and DESTDIR" {
	top=$BATS_TEST_DIRNAME/..
	run make -s -C "$top" B="$(dirname "$IDEM_BIN")" ${IDEM_SANITIZED:+SANITIZE=1} install PREFIX=/opt/idem DESTDIR="$PWD/root"
	assert_success
	for t in "$IDEM_BIN"/*; do
		[ -x "root/opt/idem/bin/$(basename "$t")" ]
	done
	[ -f root/opt/idem/share/man/man1/dedup.1 ]
	[ -f root/opt/idem/share/man/man7/idem.7 ]
	run root/opt/idem/bin/dedup --version
	assert_success
}
