#!/usr/bin/env bats
# dlq: check records into dead letters, count, replay, purge.

load helpers

orders() {
	cat <<'J'
{"id":1,"amount":5}
{"id":2,"amount":-1}
{"id":3}
not json
{"id":4,"amount":"7"}
J
}

# error_type and error_message of each envelope
why() {
	jq -c '[.error_type,.error_message,.retry_count,.replayable]' "$@"
}

@test "check -e passes good records byte for byte and dead-letters the rest" {
	orders > in.ndjson
	run dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson
	assert_success
	assert_output - <<'J'
{"id":1,"amount":5}
{"id":4,"amount":"7"}
J
	run why bad.ndjson
	assert_output - <<'J'
["check_failed","check failed: .amount > 0: .amount is -1",0,true]
["missing_field","check failed: .amount > 0: .amount is missing",0,true]
["invalid_json","invalid JSON: invalid literal at byte 1",0,true]
J
	run no_time bad.ndjson
	assert_line --index 0 '{"original_record":{"id":2,"amount":-1},"error_type":"check_failed","error_message":"check failed: .amount > 0: .amount is -1","retry_count":0,"failed_at":"T","replayable":true,"source":{"tool":"dlq","file":"in.ndjson","line":2}}'
	assert_line --index 2 '{"original_record":"not json","error_type":"invalid_json","error_message":"invalid JSON: invalid literal at byte 1","retry_count":0,"failed_at":"T","replayable":true,"source":{"tool":"dlq","file":"in.ndjson","line":4}}'
}

@test "check without --dlq stops at the first failing record with exit 2" {
	orders > in.ndjson
	run dlq check -e '.amount > 0' in.ndjson
	assert_failure 2
	assert_output - <<'J'
{"id":1,"amount":5}
dlq: in.ndjson:2: check failed: .amount > 0: .amount is -1
J
}

@test "check stops at a letter it cannot write: no record after it goes out, exit 2" {
	[ -w /dev/full ] || skip "no /dev/full"
	printf '{"a":1}\n{"a":-1}\n{"a":-2}\n{"a":2}\n' > in.ndjson
	for j in 1 2; do
		run sh -c "dlq check -j $j -e '.a > 0' --dlq /dev/full in.ndjson 2> err"
		assert_failure 2
		assert_output '{"a":1}'
		run cat err
		assert_output 'dlq: in.ndjson:2: dead letter not written (nor the 1 held after it): /dev/full: write: No space left on device'
	done
}

@test "check -e refuses a program whose value an assignment makes: '.a = 1' passed every record" {
	printf '{"a":1}\n{"a":2}\n' > in
	refused "dlq: -e: '.a = 1': '=' sets a member, and the record it gives is always true; did you mean '.a == 1'? (in parentheses the assignment is taken as written)" \
		dlq check -e '.a = 1' in
	refused "dlq: -e: '.a //= 3': '//=' updates a member, and the record it gives is always true (in parentheses it is taken as written)" \
		dlq check -e '.a //= 3' in
	# what is compared, or set out of the value's way, or in parentheses, runs
	run dlq check -e 'def f: .a = 1; f | .a == 1' -e '.a != 2 # a=b' -e '(.a = 1)' in --dlq bad
	assert_output '{"a":1}'
	run jq -c .error_type bad
	assert_output '"check_failed"'
}

@test "check -e runs other programs in jq, false and null failing" {
	orders > in.ndjson
	run dlq check -e '(.amount | type) == "number"' --dlq bad.ndjson in.ndjson
	assert_output '{"id":1,"amount":5}
{"id":2,"amount":-1}'
	run why bad.ndjson
	assert_output - <<'J'
["check_failed","check failed: (.amount | type) == \"number\" is false",0,true]
["invalid_json","invalid JSON: invalid literal at byte 1",0,true]
["check_failed","check failed: (.amount | type) == \"number\" is false",0,true]
J
}

@test "a condition that gives several values is an expression_error, not one truthy array" {
	printf '%s\n' '{"a":1,"b":2}' > in.ndjson
	run dlq check -e 'false, true' -e '.a, .b' --dlq bad.ndjson in.ndjson
	assert_success
	assert_output ''
	run jq -c '[.error_type, .error_message]' bad.ndjson
	assert_output '["expression_error","check false, true: gave 2 values; a condition gives one (join them with and, or, any or all)"]'
	run dlq check -e '[.a, .b]' in.ndjson
	assert_success
	assert_output '{"a":1,"b":2}'
}

@test "repeated -e must all pass; comparisons are exact on big numbers" {
	printf '{"n":12345678901234567891}\n{"n":12345678901234567890}\n' > in.ndjson
	run dlq check -e '.n >= 12345678901234567891' -e '.n != null' in.ndjson
	assert_failure 2
	assert_output - <<'J'
{"n":12345678901234567891}
dlq: in.ndjson:2: check failed: .n >= 12345678901234567891: .n is 12345678901234567890
J
}

@test "--schema checks type, required, properties, enum, minimum, maximum, pattern" {
	cat > schema.json <<'J'
{"type":"object","required":["id"],
 "properties":{"id":{"type":"integer"},"amount":{"type":"number","minimum":0,"maximum":100},
  "status":{"enum":["ok","late"]},"name":{"type":"string","pattern":"^[a-z]+$"},
  "addr":{"type":"object","required":["city"],"properties":{"zip":{"type":["string","null"]}}}}}
J
	cat > in.ndjson <<'J'
{"id":1,"amount":5,"status":"ok","name":"ann","addr":{"city":"x","zip":null}}
{"amount":5}
{"id":1.5}
{"id":2,"amount":-1}
{"id":3,"amount":101}
{"id":4,"status":"lost"}
{"id":5,"name":"Ann"}
{"id":6,"addr":{"zip":"1"}}
{"id":7,"addr":{"city":"y","zip":7}}
[1]
J
	run dlq check --schema schema.json --dlq bad.ndjson in.ndjson
	assert_success
	assert_output '{"id":1,"amount":5,"status":"ok","name":"ann","addr":{"city":"x","zip":null}}'
	run why bad.ndjson
	assert_output - <<'J'
["missing_field","missing required member .id",0,true]
["wrong_type",".id is number, want integer",0,true]
["schema_violation",".amount: -1 is less than minimum 0",0,true]
["schema_violation",".amount: 101 is greater than maximum 100",0,true]
["schema_violation",".status: \"lost\" is not one of the enum values",0,true]
["schema_violation",".name: does not match pattern ^[a-z]+$",0,true]
["missing_field","missing required member .addr.city",0,true]
["wrong_type",".addr.zip is number, want null or string",0,true]
["wrong_type",". is array, want object",0,true]
J
}

@test "a schema's missing required member names the member a typo away, as every tool's missing key does" {
	echo '{"required":["amout","xyzzy"]}' > s1.json
	echo '{"required":["xyzzy"]}' > s2.json
	echo '{"properties":{"o":{"required":["amout"]}}}' > s3.json
	echo '{"amount":1,"xyzzy":1,"o":{"amount":1}}' > in.ndjson
	run dlq check --schema s1.json in.ndjson
	assert_failure 2
	assert_output 'dlq: in.ndjson:1: missing required member .amout (did you mean .amount?)'
	echo '{"amount":1,"o":{"amount":1}}' > in.ndjson
	run dlq check --schema s2.json in.ndjson
	assert_failure 2
	assert_output 'dlq: in.ndjson:1: missing required member .xyzzy'
	# a nested member is named by its path, and the member a typo
	# away with it, as -e's and the keys' are
	run dlq check --schema s3.json in.ndjson
	assert_failure 2
	assert_output 'dlq: in.ndjson:1: missing required member .o.amout (did you mean .o.amount?)'
	# the same in the letter, and on threads
	run dlq check -j 2 --schema s1.json --dlq bad.ndjson in.ndjson
	assert_success
	run jq -r .error_message bad.ndjson
	assert_output 'missing required member .amout (did you mean .amount?)'
}

@test "a pattern the regex engine gives up on is no answer, not a failed match" {
	# (a+)+$ backtracks without end on a's before a c: Oniguruma stops at
	# its retry limit, though the string matches the pattern (its b)
	echo '{"properties":{"s":{"pattern":"(a+)+$|b"}}}' > s.json
	printf '{"s":"%scb"}\n' aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa > in.ndjson
	echo '{"s":"ac"}' >> in.ndjson
	run dlq check --schema s.json --dlq bad.ndjson in.ndjson
	assert_success
	assert_output ''
	run jq -c '[.error_type, .error_message]' bad.ndjson
	assert_output - <<'J'
["expression_error",".s: pattern (a+)+$|b could not be decided: retry-limit-in-match over"]
["schema_violation",".s: does not match pattern (a+)+$|b"]
J
	run dlq check --schema s.json in.ndjson
	assert_failure 2
	assert_output 'dlq: in.ndjson:1: .s: pattern (a+)+$|b could not be decided: retry-limit-in-match over'
}

@test "--schema's integer is a number without a fractional part by value, whatever its spelling" {
	echo '{"properties":{"n":{"type":"integer"}}}' > s.json
	printf '{"n":%s}\n' 1 1.0 1e0 1.5e1 100e-2 1e400 -0.0e9 120e-1 0.5 1e-1 1.25e1 12345678901234567890.5 1e-999999999999999999999 > in.ndjson
	run sh -c 'dlq check --schema s.json --dlq bad.ndjson in.ndjson | tr "\n" " "'
	assert_output '{"n":1} {"n":1.0} {"n":1e0} {"n":1.5e1} {"n":100e-2} {"n":1e400} {"n":-0.0e9} {"n":120e-1} '
	run jq -c '[.original_record.n, .error_message]' bad.ndjson
	assert_output - <<'J'
[0.5,".n is number, want integer"]
[0.1,".n is number, want integer"]
[12.5,".n is number, want integer"]
[12345678901234567000,".n is number, want integer"]
[0,".n is number, want integer"]
J
}

@test "--schema names, patterns and values with a \\u0000 are used whole, not cut at it" {
	echo '{"required":["a\u0000b"],"properties":{"s":{"pattern":"^a.c$"}}}' > s.json
	printf '%s\n' '{"a":1}' '{"a\u0000b":1,"s":"a\u0000c"}' '{"a\u0000b":1,"s":"a"}' > in.ndjson
	run dlq check --schema s.json --dlq bad.ndjson in.ndjson
	assert_success
	assert_output '{"a\u0000b":1,"s":"a\u0000c"}'
	run jq -c '.original_record' bad.ndjson
	assert_output - <<'J'
{"a":1}
{"a\u0000b":1,"s":"a"}
J
}

@test "a schema keyword or type with a \\u0000 in its name is none, not the one before the NUL" {
	echo '{"type\u0000x":"string"}' > s.json
	refused 'dlq: s.json: type\u0000...: a name with a NUL is not a keyword dlq check checks: a record it should fail would pass' dlq check --schema s.json
	echo '{"type":"number","type\u0000":"string"}' > s.json
	refused 'dlq: s.json: type\u0000...: a name with a NUL is not a keyword dlq check checks: a record it should fail would pass' dlq check --schema s.json
	echo '{"properties":{"a":{"type":["null","string\u0000"]}}}' > s.json
	refused "dlq: s.json: .a: type: unknown type 'string\u0000...'" dlq check --schema s.json
}

@test "a bad schema is refused" {
	echo '{"type":"text"}' > s.json
	run dlq check --schema s.json
	assert_failure 2
	assert_output "dlq: s.json: type: unknown type 'text'"
	echo '{' > s.json
	run dlq check --schema s.json
	assert_failure 2
	assert_output --partial 'dlq: s.json: invalid JSON'
}

@test "a bad type in a nested schema is named where it is, with the type meant" {
	echo '{"properties":{"a":{"properties":{"b":{"type":["string","int"]}}}}}' > s.json
	refused "dlq: s.json: .a.b: type: unknown type 'int'; did you mean integer?" dlq check --schema s.json
	echo '{"properties":{"a":{"type":"bool"}}}' > s.json
	refused "dlq: s.json: .a: type: unknown type 'bool'; did you mean boolean?" dlq check --schema s.json
	echo '{"properties":{"a":{"type":["null",1]}}}' > s.json
	refused "dlq: s.json: .a: type: want a name, not number" dlq check --schema s.json
	echo '{"properties":{"a":{"properties":{"b":true}}}}' > s.json
	refused "dlq: s.json: .a.b: a schema must be an object" dlq check --schema s.json
}

@test "check of empty input writes nothing" {
	run dlq check -e .a < /dev/null
	assert_success
	assert_output ''
}

@test "stats counts by error type, replayable and parked, as NDJSON" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	run sh -c 'dlq stats bad.ndjson | jq -c "del(.oldest,.newest)"'
	assert_output - <<'J'
{"error_type":"check_failed","entries":1,"replayable":1,"parked":0}
{"error_type":"invalid_json","entries":1,"replayable":1,"parked":0}
{"error_type":"missing_field","entries":1,"replayable":1,"parked":0}
{"error_type":null,"entries":3,"replayable":3,"parked":0}
J
}

@test "stats of an empty file is the zero total" {
	: > empty.ndjson
	run dlq stats empty.ndjson
	assert_success
	assert_output '{"error_type":null,"entries":0,"replayable":0,"parked":0,"oldest":null,"newest":null}'
}

@test "stats refuses a line that is not an envelope" {
	echo '{"a":1}' > bad.ndjson
	run dlq stats bad.ndjson
	assert_failure 2
	assert_output 'dlq: bad.ndjson:1: not a dead-letter envelope'
}

@test "replay emits the originals and keeps them until --commit" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	run dlq replay bad.ndjson
	assert_success
	assert_output - <<'J'
{"id":2,"amount":-1}
{"id":3}
not json
J
	[ "$(wc -l < bad.ndjson)" = 3 ]
	dlq replay bad.ndjson --commit
	[ ! -s bad.ndjson ]
	[ ! -e bad.ndjson.replay ]
	run dlq replay bad.ndjson --commit
	assert_success
	assert_output "dlq: bad.ndjson: no replay pending (the last one to standard output was committed, or a later replay abandoned it and handed its entries out again); nothing committed"
}

@test "--commit says of an entry changed since the replay handed it out that nothing of it was removed" {
	printf '{"a":-1}\n{"a":-2}\n' | dlq check -e '.a > 0' --dlq q
	dlq replay q > out
	sed 's/"a":-2}/"a":-3}/' q > q.new
	cat q.new > q
	run dlq replay q --commit
	assert_success
	assert_output 'dlq: q: 1 of the 2 entries the replay handed out was no longer there as it was handed out (changed or removed since); nothing of it removed'
	run jq -c .original_record q
	assert_output '{"a":-3}'
}

@test "--commit takes the replay last written to standard output, and says when a later replay abandoned it" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	dlq replay bad.ndjson > out1
	# a replay to a command abandons it, and says so; failing, it
	# leaves nothing pending
	run dlq replay bad.ndjson -- false
	assert_failure 2
	assert_output - <<'E'
dlq: bad.ndjson: the replay to standard output before this one was delivered but not committed (--commit): abandoned, its entries handed out again; 0 entries its reader dead-lettered again removed, the originals kept
dlq: false exited with status 1; nothing removed from bad.ndjson
E
	run dlq replay bad.ndjson --commit
	assert_success
	assert_output "dlq: bad.ndjson: no replay pending (the last one to standard output was committed, or a later replay abandoned it and handed its entries out again); nothing committed"
	[ "$(wc -l < bad.ndjson)" = 3 ]
	# a replay to a command killed before its commit is no replay to
	# standard output: --commit names it
	run timeout -s KILL 0.3 dlq replay bad.ndjson -- sleep 10
	for _ in $(seq 50); do
		run dlq replay bad.ndjson --commit
		[ "$status" != 75 ] && break
		sleep 0.1
	done
	assert_failure 2
	assert_output "dlq: bad.ndjson: the last replay was to a command and did not finish (killed); nothing committed: replay again"
	[ "$(wc -l < bad.ndjson)" = 3 ]
}

@test "--commit takes no replay whose output did not all reach standard output" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	run sh -c 'dlq replay bad.ndjson > /dev/full'
	assert_failure 2
	assert_output 'dlq: stdout: No space left on device'
	run dlq replay bad.ndjson --commit
	assert_failure 2
	assert_output "dlq: bad.ndjson: the last replay's output did not all reach standard output (a write failed, or it was killed); nothing committed: replay again"
	[ "$(wc -l < bad.ndjson)" = 3 ]
	# a replay to a command that was killed is not taken by --commit either
	run timeout -s KILL 1 dlq replay bad.ndjson -- sleep 10
	# its watchdog kills the command's group, which holds the lock till
	# it dies: until then --commit says try again later (75), as it must
	for _ in $(seq 50); do
		run dlq replay bad.ndjson --commit
		[ "$status" != 75 ] && break
		sleep 0.1
	done
	assert_failure 2
	[ "$(wc -l < bad.ndjson)" = 3 ]
	dlq replay bad.ndjson > out.ndjson
	dlq replay bad.ndjson --commit
	[ ! -s bad.ndjson ]
	[ "$(wc -l < out.ndjson)" = 3 ]
}

@test "--commit takes no replay a reader left in the pipe (| head -c 10), though every write succeeded" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	run bash -c 'set -o pipefail; dlq replay bad.ndjson | head -c 10'
	assert_failure 141
	assert_output '{"id":2,"a'
	refused "dlq: bad.ndjson: the last replay's output did not all reach standard output (a write failed, or it was killed); nothing committed: replay again" dlq replay bad.ndjson --commit
	[ "$(wc -l < bad.ndjson)" = 3 ]
	dlq replay bad.ndjson 2>/dev/null | { sleep 0.3; cat; } > out
	dlq replay bad.ndjson --commit
	[ ! -s bad.ndjson ]
	[ "$(wc -l < out)" = 3 ]
}

@test "a replay whose command's output a pipe's reader left unread (| head -c 5) removes nothing" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	cp bad.ndjson before
	run bash -c 'set -o pipefail; dlq replay bad.ndjson -- cat 2> err | head -c 5'
	assert_failure 2
	assert_output '{"id"'
	run cat err
	assert_output 'dlq: cat exited 0, but the reader of standard output left some of its output unread in the pipe; nothing removed from bad.ndjson'
	cmp before bad.ndjson
	[ ! -e bad.ndjson.replay ]
	dlq replay bad.ndjson -- cat | { sleep 0.3; cat; } > out
	[ ! -s bad.ndjson ]
	[ "$(wc -l < out)" = 3 ]
}

@test "a replay whose command exits 0 after its output found the reader gone (sh -c 'cat; true' | ...) removes nothing" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	cp bad.ndjson before
	run bash -c "dlq replay bad.ndjson -- sh -c 'while [ ! -e gone ]; do sleep 0.01; done; cat; true' 2> err | sh -c 'exec 0<&-; touch gone'; echo \${PIPESTATUS[0]}"
	assert_output 2
	run cat err
	assert_output 'dlq: sh exited 0, but the reader of standard output has gone: what sh wrote there may not have reached it; nothing removed from bad.ndjson'
	cmp before bad.ndjson
	[ ! -e bad.ndjson.replay ]
}

@test "a replay to a command refuses a closed standard output: the command's output would be lost, its exit 0 all the same" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	cp bad.ndjson before
	run sh -c "dlq replay bad.ndjson -- sh -c 'cat; true' >&-"
	assert_failure 2
	assert_output "dlq: standard output is closed: what sh writes there would be lost, and it may exit 0 all the same; give it /dev/null to discard it"
	cmp before bad.ndjson
	[ ! -e bad.ndjson.replay ]
}

@test "a failed replay leaves every entry in place" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	cp bad.ndjson before
	run dlq replay bad.ndjson -- sh -c 'cat > /dev/null; exit 4'
	assert_failure 2
	assert_output 'dlq: sh exited with status 4; nothing removed from bad.ndjson'
	cmp before bad.ndjson
}

@test "a replay whose command was killed says the signal, not an exit status of 128 + it" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	cp bad.ndjson before
	run dlq replay bad.ndjson -- sh -c 'cat > /dev/null; kill -TERM $$'
	assert_failure 2
	assert_output 'dlq: sh was killed by signal 15 (SIGTERM); nothing removed from bad.ndjson'
	cmp before bad.ndjson
}

@test "a record in the file twice comes back with each entry's retry_count + 1, not the highest + 1 twice" {
	L='{"original_record":{"a":%s},"error_type":"x","error_message":"m","retry_count":%d,"failed_at":"2024-01-01T00:00:00Z","replayable":true,"source":{"tool":"t","file":"f","line":1}}\n'
	# one record, by value: lettered once at retry 2, once at retry 0
	printf "$L" -1 2 -1.0 0 '"x"' 5 > q
	run dlq replay q -- dlq check -e '.a > 0' --dlq q
	assert_success
	run sed 's/,"error_type".*"retry_count":\([0-9]*\),.*/ \1/' q
	assert_output - <<'J'
{"original_record":{"a":-1} 3
{"original_record":{"a":-1.0} 1
J
	run dlq replay q --max-retries 3 -- dlq check -e '.a > 0' --dlq q
	assert_success
	assert_output 'dlq: q: 1 entry past --max-retries 3 parked'
	run sed 's/,"error_type".*"retry_count":\([0-9]*\),.*"replayable":\([a-z]*\),.*/ \1 \2/' q
	assert_output - <<'J'
{"original_record":{"a":-1} 3 false
{"original_record":{"a":-1.0} 2 true
J
}

@test "a record that fails again comes back with retry_count + 1, then is parked" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	run dlq replay bad.ndjson -- dlq check -e '.amount > 0' --dlq bad.ndjson
	assert_success
	run why bad.ndjson
	assert_output - <<'J'
["check_failed","check failed: .amount > 0: .amount is -1",1,true]
["missing_field","check failed: .amount > 0: .amount is missing",1,true]
["invalid_json","invalid JSON: invalid literal at byte 1",1,true]
J
	run jq -c .original_record bad.ndjson
	assert_output - <<'J'
{"id":2,"amount":-1}
{"id":3}
"not json"
J
	run dlq replay bad.ndjson --max-retries 1 -- cat
	assert_success
	assert_output 'dlq: bad.ndjson: 3 entries past --max-retries 1 parked'
	run why bad.ndjson
	assert_output - <<'J'
["check_failed","check failed: .amount > 0: .amount is -1",1,false]
["missing_field","check failed: .amount > 0: .amount is missing",1,false]
["invalid_json","invalid JSON: invalid literal at byte 1",1,false]
J
}

@test "a failed replay whose command dead-lettered again is rolled back" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	cp bad.ndjson before
	run dlq replay bad.ndjson -- sh -c 'dlq check -e ".amount > 0" --dlq bad.ndjson; exit 1'
	assert_failure 2
	assert_output 'dlq: sh exited with status 1; nothing removed from bad.ndjson'
	cmp before bad.ndjson
	[ ! -e bad.ndjson.replay ]
}

@test "a failed replay's rollback counts lines as the replay did: a whitespace-only line loses no entry, and purge takes it as blank" {
	printf '%s\n' '{"id":1,"amount":-1}' '{"id":2,"amount":-1}' |
		dlq check -e '.amount > 0' --dlq bad.ndjson
	# a line of spaces (a hand edit) between entries replayed before
	sed -i -e '1a\   ' -e 's/"retry_count":0/"retry_count":1/' bad.ndjson
	run dlq replay bad.ndjson -- sh -c 'cat > /dev/null; exit 1'
	assert_failure 2
	assert_output 'dlq: sh exited with status 1; nothing removed from bad.ndjson'
	run jq -c '[.retry_count, .original_record.id]' bad.ndjson
	assert_output - <<'J'
[1,1]
[1,2]
J
	sed -i '1a\	 ' bad.ndjson
	run dlq purge --older-than 1d bad.ndjson
	assert_success
	assert_output 'dlq: bad.ndjson: no entry failed more than 1d ago; nothing purged'
	run jq -c '.original_record.id' bad.ndjson
	assert_output - <<'J'
1
2
J
}

@test "a killed replay is rolled back by the next one: each record once" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	cp bad.ndjson before
	# the command dead-letters all three again, then kills the replay
	run dlq replay bad.ndjson -- sh -c 'dlq check -e ".amount > 0" --dlq bad.ndjson; kill -9 $PPID'
	assert_failure 137
	[ "$(wc -l < bad.ndjson)" = 6 ]
	[ -e bad.ndjson.replay ]
	run dlq replay bad.ndjson -- cat
	assert_success
	assert_output - <<'J'
dlq: bad.ndjson: an unfinished replay rolled back: 3 entries it dead-lettered again removed, the originals kept
{"id":2,"amount":-1}
{"id":3}
not json
J
	[ ! -s bad.ndjson ]
	[ ! -e bad.ndjson.replay ]
}

@test "a failed or killed replay's rollback takes its command's letters only, not another writer's of the same record" {
	echo '{"id":1,"amount":-1}' > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	cp bad.ndjson before
	# the command letters the record again; so does a writer that is no
	# child of the replay (without its IDEM_DLQ_REPLAY), meanwhile
	cp in.ndjson other.ndjson
	other='env -u IDEM_DLQ_REPLAY dlq check -e ".amount > 0" --dlq bad.ndjson other.ndjson'
	own='dlq check -e ".amount > 0" --dlq bad.ndjson in.ndjson'
	run dlq replay bad.ndjson -- sh -c "cat > /dev/null; $other; $own; exit 1"
	assert_failure 2
	assert_output 'dlq: sh exited with status 1; nothing removed from bad.ndjson'
	# the other writer's letter stays (the record failed again: a
	# retry), the command's goes
	run jq -c '[.source.file, .retry_count, has("replay_id")]' bad.ndjson
	assert_output - <<'J'
["in.ndjson",0,false]
["other.ndjson",1,false]
J
	head -n 1 bad.ndjson | cmp - before
	cp bad.ndjson before
	run dlq replay bad.ndjson -- sh -c "cat > /dev/null; $own; $other; kill -9 \$PPID"
	assert_failure 137
	# each writer's one letter of the record is a retry of the entry
	# handed out first (retry_count 0), not of the highest
	run jq -c '[.source.file, .retry_count, has("replay_id")]' bad.ndjson
	assert_output - <<'J'
["in.ndjson",0,false]
["other.ndjson",1,false]
["in.ndjson",1,true]
["other.ndjson",1,false]
J
	run dlq replay bad.ndjson -- cat
	assert_success
	assert_line -n 0 'dlq: bad.ndjson: an unfinished replay rolled back: 1 entry it dead-lettered again removed, the originals kept'
	# all three letters were replayed, the other writer's among them
	[ "${#lines[@]}" = 4 ]
	[ ! -s bad.ndjson ]
}

@test "a letter whose replay_id is not a run id is no envelope" {
	L='{"original_record":{"id":1},"error_type":"x","error_message":"m","retry_count":1,"failed_at":"2024-01-01T00:00:00Z","replayable":true,"source":{"tool":"t","file":"f","line":1},"replay_id":%s}\n'
	printf "$L" '"00000000000000ff"' > q
	run dlq stats q
	assert_success
	printf "$L" '"FF"' > q
	refused 'dlq: q:1: not a dead-letter envelope (replay_id is not 16 lowercase hex digits)' dlq stats q
}

@test "a replay killed after its commit keeps the new entries" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	# the 2nd atomic rename is the commit's rewrite (the 1st, the ledger)
	run env IDEM_FAULT=commit.renamed:2 dlq replay bad.ndjson -- \
		dlq check -e '.amount > 0' --dlq bad.ndjson
	assert_failure 86
	[ -e bad.ndjson.replay ]
	run why bad.ndjson
	assert_output - <<'J'
["check_failed","check failed: .amount > 0: .amount is -1",1,true]
["missing_field","check failed: .amount > 0: .amount is missing",1,true]
["invalid_json","invalid JSON: invalid literal at byte 1",1,true]
J
	run dlq replay bad.ndjson -- sh -c 'cat > got'
	assert_success
	assert_output 'dlq: bad.ndjson: the last replay had committed (or the file was replaced since); its ledger removed'
	[ "$(wc -l < got)" = 3 ]
	[ ! -s bad.ndjson ]
}

@test "a replay's ledger is of its file: one replaced since is not rolled back by it, nor does it count a new file's letters as retries" {
	L='{"original_record":{"id":%d},"error_type":"x","error_message":"m","retry_count":%d,"failed_at":"2024-01-01T00:00:0%dZ","replayable":true,"source":{"tool":"t","file":"f","line":1}}\n'
	printf "$L" 1 0 1 2 0 2 > q
	dlq replay q > /dev/null
	# q replaced by a copy kept elsewhere: its lines past the ledger's
	# count are no letters of that replay's command, and stay
	{ printf "$L" 1 0 1 3 0 3 4 0 4; printf "$L" 1 2 5; } > other
	cp other q.new
	mv q.new q
	run dlq replay q -- false
	assert_failure 2
	assert_line -n 0 "dlq: q: replaced since the last replay (its ledger is of the file there before); ledger removed, nothing rolled back"
	cmp q other
	printf "$L" 7 0 7 > q
	dlq replay q > /dev/null
	# removed and made again (on the same inode number, often): a
	# record failing now is a first failure here, not a retry
	rm q
	echo '{"id":7}' | dlq check -e '.id != 7' --dlq q > /dev/null
	run jq -c .retry_count q
	assert_output 0
	run dlq replay q -- cat
	assert_success
	assert_output - <<-'E'
	dlq: q: the last replay had committed (or the file was replaced since); its ledger removed
	{"id":7}
	E
}

@test "a replay that succeeds removes the replayed entries only" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	run dlq replay bad.ndjson -- sh -c 'cat > got; echo "{\"late\":1}" | dlq check -e .x --dlq bad.ndjson'
	assert_success
	run why bad.ndjson
	assert_output '["missing_field","check failed: .x: .x is missing",0,true]'
	run cat got
	assert_output - <<'J'
{"id":2,"amount":-1}
{"id":3}
not json
J
}

@test "purge removes the entries older than the duration" {
	orders > in.ndjson
	dlq check -e '.amount > 0' --dlq bad.ndjson in.ndjson > /dev/null
	run dlq purge --older-than 1h bad.ndjson
	assert_success
	assert_output 'dlq: bad.ndjson: no entry failed more than 1h ago; nothing purged'
	[ "$(wc -l < bad.ndjson)" = 3 ]
	sed -i '1s/"failed_at":"[^"]*"/"failed_at":"2020-01-01T00:00:00Z"/' bad.ndjson
	run dlq purge --older-than 1h bad.ndjson
	assert_success
	assert_output 'dlq: bad.ndjson: 1 entry purged (failed more than 1h ago)'
	run why bad.ndjson
	assert_output - <<'J'
["missing_field","check failed: .amount > 0: .amount is missing",0,true]
["invalid_json","invalid JSON: invalid literal at byte 1",0,true]
J
}

# An envelope line: id, retry_count, failed_at, replayable.
letter() {
	printf '{"original_record":{"id":%s},"error_type":"t","error_message":"m","retry_count":%s,"failed_at":"%s","replayable":%s,"source":{"tool":"dlq","file":"f","line":1}}\n' "$@"
}

@test "stats takes error types by value and counts an entry of the earliest time there is" {
	letter 1 0 2024-01-01T00:00:00Z true | sed 's/"error_type":"t"/"error_type":"check_failed"/' > q.ndjson
	letter 2 0 2024-01-02T00:00:00Z true | sed 's/"error_type":"t"/"error_type":"check\\u005ffailed"/' >> q.ndjson
	letter 3 0 2024-01-03T00:00:00Z false | sed 's/"error_type":"t"/"error_type":"a\\"b\\u0000c"/' >> q.ndjson
	# INT64_MIN nanoseconds: no "no time" mark, a time like any other
	letter 4 0 1677-09-21T00:12:43.145224192Z true >> q.ndjson
	run dlq stats q.ndjson
	assert_success
	assert_output - <<'J'
{"error_type":"a\"b\u0000c","entries":1,"replayable":0,"parked":1,"oldest":"2024-01-03T00:00:00Z","newest":"2024-01-03T00:00:00Z"}
{"error_type":"check_failed","entries":2,"replayable":2,"parked":0,"oldest":"2024-01-01T00:00:00Z","newest":"2024-01-02T00:00:00Z"}
{"error_type":"t","entries":1,"replayable":1,"parked":0,"oldest":"1677-09-21T00:12:43.145224192Z","newest":"1677-09-21T00:12:43.145224192Z"}
{"error_type":null,"entries":4,"replayable":3,"parked":1,"oldest":"1677-09-21T00:12:43.145224192Z","newest":"2024-01-03T00:00:00Z"}
J
}

@test "purge refuses while a replay is pending, and waits for one running: purged lines would leave a record's new letter beside its original" {
	L='{"original_record":{"id":%d},"error_type":"x","error_message":"m","retry_count":0,"failed_at":"%s","replayable":true,"source":{"tool":"t","file":"f","line":1}}\n'
	printf "$L" 1 2020-01-01T00:00:00Z 2 2099-01-01T00:00:00Z 3 2099-01-01T00:00:00Z > q
	dlq replay q > out
	# ids 2 and 3 fail again: their letters follow the three read
	dlq check -e '.id == 1' --dlq q < out > /dev/null
	cp q before
	refused "dlq: q: a replay is pending (q.replay); nothing purged: commit it ('dlq replay q --commit'), or replay again, first" \
		dlq purge --older-than 1d q
	cmp q before
	# the replay not committed rolls back whole: each record once
	run dlq replay q
	assert_success
	assert_output - <<-'E'
	dlq: q: the replay to standard output before this one was delivered but not committed (--commit): abandoned, its entries handed out again; 2 entries its reader dead-lettered again removed, the originals kept
	{"id":1}
	{"id":2}
	{"id":3}
	E
	dlq replay q --commit
	flock q.lock sleep 3 &
	sleep 0.3
	run dlq purge --older-than 1d q
	assert_failure 75
	wait
}

@test "a letter longer than 64M, for a record check let through, is read back: counted, replayed, purged" {
	# a line just under check's 64M limit; its envelope is over it
	{ printf '{"a":0,"p":"'; head -c 67108700 /dev/zero | tr '\0' x; printf '"}\n'; } > big.ndjson
	dlq check -e '.a > 0' --dlq q big.ndjson
	[ "$(wc -c < q)" -gt 67108864 ]
	run sh -c 'dlq stats q | jq -c "[.error_type, .entries]"'
	assert_output - <<'J'
["check_failed",1]
[null,1]
J
	dlq replay q | cmp - big.ndjson
	dlq replay q --commit
	[ ! -s q ]
	dlq check -e '.a > 0' --dlq q big.ndjson
	run dlq purge --older-than 0s q
	assert_success
	assert_output 'dlq: q: 1 entry purged (failed more than 0s ago)'
}

@test "purge refuses a line it cannot date or read, naming it, and purges nothing" {
	letter 1 0 2020-01-01T00:00:00Z true > q.ndjson
	letter 2 1.5 2020-01-01T00:00:00Z true >> q.ndjson
	cp q.ndjson before
	run dlq purge --older-than 1h q.ndjson
	assert_failure 2
	assert_output 'dlq: q.ndjson:2: not a dead-letter envelope (retry_count is not a whole number 0 to 2^63-1); nothing purged'
	cmp q.ndjson before
	letter 1 0 2020-01-01T00:00:00Z true > q.ndjson
	echo >> q.ndjson
	letter 3 0 2026-02-29T00:00:00Z true >> q.ndjson
	run dlq purge --older-than 1h q.ndjson
	assert_failure 2
	assert_output 'dlq: q.ndjson:3: not a dead-letter envelope (failed_at is not an RFC 3339 time of years 1678 to 2262); nothing purged'
	letter 4 0 2020-01-01T00:00:00Z '"yes"' > q.ndjson
	run dlq purge --older-than 1h q.ndjson
	assert_failure 2
	assert_output 'dlq: q.ndjson:1: not a dead-letter envelope (replayable is not true or false); nothing purged'
	run dlq stats q.ndjson
	assert_failure 2
	assert_output 'dlq: q.ndjson:1: not a dead-letter envelope (replayable is not true or false)'
}

@test "a retry_count is read by its value: 1.0 and 1e0 are 1, as a writer of doubles spells them" {
	L='{"original_record":{"id":%d},"error_type":"x","error_message":"m","retry_count":%s,"failed_at":"2024-01-01T00:00:00Z","replayable":true,"source":{"tool":"t","file":"f","line":1}}\n'
	printf "$L" 1 1.0 2 1e0 3 -0 4 2.0 > q
	run dlq replay q --max-retries 2
	assert_success
	assert_output - <<'E'
dlq: q: 1 entry past --max-retries 2 parked
{"id":1}
{"id":2}
{"id":3}
E
	# a record handed out at 1.0 that fails again comes back at 2
	dlq check -e '.id != 1' --dlq q <<< '{"id":1}'
	run sh -c "tail -n 1 q | jq -c '[.original_record, .retry_count]'"
	assert_output '[{"id":1},2]'
}

@test "an entry without a retry_count, or whose error_type is missing or no string, is refused, not counted as 0 or under \"\"" {
	L='{"original_record":{"id":1},%s"failed_at":"2024-01-01T00:00:00Z","replayable":true}\n'
	printf "$L" '"error_type":"","retry_count":0,' > q
	run dlq stats q
	assert_success
	assert_line -n 0 '{"error_type":"","entries":1,"replayable":1,"parked":0,"oldest":"2024-01-01T00:00:00Z","newest":"2024-01-01T00:00:00Z"}'
	cp q before
	printf "$L" '"error_type":5,"retry_count":0,' >> q
	refused 'dlq: q:2: not a dead-letter envelope (error_type is not a string)' dlq stats q
	printf "$L" '"error_type":"","retry_count":0,' '"retry_count":0,' > q
	refused 'dlq: q:2: not a dead-letter envelope (error_type is not a string)' dlq stats q
	printf "$L" '"error_type":null,"retry_count":0,' > q
	refused 'dlq: q:1: not a dead-letter envelope (error_type is not a string)' dlq replay q
	printf "$L" '"error_type":"x",' > q
	cp q before
	refused 'dlq: q:1: not a dead-letter envelope (retry_count is not a whole number 0 to 2^63-1)' dlq replay q --max-retries 1 -- cat
	refused 'dlq: q:1: not a dead-letter envelope (retry_count is not a whole number 0 to 2^63-1); nothing purged' dlq purge --older-than 1s q
	cmp q before
}

@test "stats refuses an entry without a readable failed_at rather than leave it out of oldest and newest" {
	letter 1 0 2026-01-01T00:00:00Z true > q.ndjson
	letter 2 0 garbage true >> q.ndjson
	run dlq stats q.ndjson
	assert_failure 2
	assert_output 'dlq: q.ndjson:2: not a dead-letter envelope (failed_at is not an RFC 3339 time of years 1678 to 2262)'
	run dlq replay q.ndjson
	assert_failure 2
	assert_output 'dlq: q.ndjson:2: not a dead-letter envelope (failed_at is not an RFC 3339 time of years 1678 to 2262)'
}

@test "purge dates entries as instants, whatever their offset or case" {
	letter 1 0 2020-01-01T00:00:00+14:00 true > q.ndjson
	letter 2 0 2020-01-01t00:00:00.5z true >> q.ndjson
	letter 3 0 2200-01-01T00:00:00-12:00 false >> q.ndjson
	run dlq purge --older-than 1h q.ndjson
	assert_success
	assert_output 'dlq: q.ndjson: 2 entries purged (failed more than 1h ago)'
	run jq -c .original_record.id q.ndjson
	assert_output '3'
}

@test "failed_at is read as the string it decodes to: an escaped digit is the digit" {
	# a JSON writer may spell any character as \uXXXX: the entry was
	# refused as 'failed_at is not an RFC 3339 time'
	letter 1 0 '\u0032020-01-01T00:00:00Z' true > q.ndjson
	letter 2 0 '2020-01-01T00:00:00\u002b01:00' true >> q.ndjson
	letter 3 0 2200-01-01T00:00:00Z true >> q.ndjson
	run dlq stats q.ndjson
	assert_success
	assert_line -n 0 '{"error_type":"t","entries":3,"replayable":3,"parked":0,"oldest":"2019-12-31T23:00:00Z","newest":"2200-01-01T00:00:00Z"}'
	run dlq purge --older-than 1h q.ndjson
	assert_success
	assert_output 'dlq: q.ndjson: 2 entries purged (failed more than 1h ago)'
	# an escape that decodes to no time is still none
	letter 4 0 '2020-01-01T00:00:00Z\u0000' true > q.ndjson
	run dlq stats q.ndjson
	assert_failure 2
	assert_output 'dlq: q.ndjson:1: not a dead-letter envelope (failed_at is not an RFC 3339 time of years 1678 to 2262)'
}

@test "replay gives back a line that is not UTF-8 byte for byte, not its U+FFFD spelling" {
	printf '{"a":"\377"}\n\001x\n{"a":1}\n' > in.ndjson
	dlq check -e '.a == 1' --dlq q.ndjson in.ndjson > /dev/null
	run jq -c '[.original_record, .original_base64]' q.ndjson
	assert_output - <<'J'
["{\"a\":\"�\"}","eyJhIjoi/yJ9"]
["\u0001x",null]
J
	dlq replay q.ndjson > out
	printf '{"a":"\377"}\n\001x\n' | cmp - out
	dlq replay q.ndjson -- dlq check -e '.a == 1' --dlq q.ndjson
	run jq -c '[.retry_count, .original_base64]' q.ndjson
	assert_output - <<'J'
[1,"eyJhIjoi/yJ9"]
[1,null]
J
}

@test "replay gives back a record's own spaces around it byte for byte, as check passes them" {
	printf '  {"a":0 }\t\n\t[0] \n{"a":0}\n' > in.ndjson
	dlq check -e '.a > 0' --dlq q.ndjson in.ndjson > /dev/null
	dlq replay q.ndjson > out
	cmp in.ndjson out
	dlq replay q.ndjson -- dlq check -e '.a > 0' --dlq q.ndjson
	run jq -c '[.original_record, .retry_count]' q.ndjson
	assert_output - <<'J'
[{"a":0},1]
[[0],1]
[{"a":0},1]
J
	dlq replay q.ndjson > out
	cmp in.ndjson out
}

@test "a torn last line's letter is read back as its raw bytes, base64 and all" {
	# not UTF-8, so the letter keeps its bytes in original_base64
	printf '{"a":1}\n{"a":"\377' | dlq check -e .a --dlq q > /dev/null 2>&1
	run sh -c 'dlq stats q | jq -c "[.error_type, .entries, .parked]"'
	assert_output - <<'J'
["torn_line",1,1]
[null,1,1]
J
	# made replayable by hand: its bytes come back, not a JSON string
	printf '{"a":1}\n{"a":2' | dlq check -e .a --dlq q2 > /dev/null 2>&1
	sed -i 's/"replayable":false/"replayable":true/' q q2
	dlq replay q2 > out
	printf '{"a":2\n' | cmp - out
	dlq replay q > out
	printf '{"a":"\377\n' | cmp - out
}

@test "an original_base64 that is not the base64 of a raw line is not an envelope" {
	letter 1 0 2020-01-01T00:00:00Z true > q.ndjson
	sed -i 's/"original_record":{"id":1}/"original_record":"x","original_base64":"eA=","error_type":"invalid_json"/; s/"error_type":"t",//' q.ndjson
	run dlq stats q.ndjson
	assert_failure 2
	assert_output 'dlq: q.ndjson:1: not a dead-letter envelope (original_base64 is not the base64 of a raw line)'
	sed -i 's/"eA="/"eA=="/' q.ndjson
	run dlq replay q.ndjson
	assert_success
	assert_output 'x'
}

@test "an original_base64 another writer spelled with escaped slashes is read as the string it decodes to" {
	printf '\377??\n' | dlq check -e . --dlq q.ndjson
	grep -q '"original_base64":"/z8/"' q.ndjson
	sed -i 's|"/z8/"|"\\/z8\\u002f"|' q.ndjson
	grep -q '"original_base64":"\\/z8\\u002f"' q.ndjson
	run dlq stats q.ndjson
	assert_success
	dlq replay q.ndjson > out
	printf '\377??\n' | cmp - out
}

@test "concurrent writers lose no entry while replays commit and purges run" {
	seq 1 400 | sed 's/.*/{"n":&}/' > in.ndjson
	# there before the first purge, which refuses a missing file, may
	# run: the writers start in the background
	: > q.ndjson
	for w in 1 2 3 4; do
		( for i in $(seq 1 6); do
			dlq check -e '.n < 0' --dlq q.ndjson in.ndjson > /dev/null
		done ) &
	done
	for i in $(seq 1 15); do
		dlq replay q.ndjson -- sh -c 'cat >> replayed' || true
		dlq purge --older-than 1h q.ndjson
	done
	wait
	dlq replay q.ndjson -- sh -c 'cat >> replayed'
	# 4 writers x 6 runs x 400 records: each one replayed exactly once
	[ "$(wc -l < replayed)" = 9600 ]
	run sh -c 'sort replayed | uniq -c | awk "{print \$1}" | sort -u'
	assert_output 24
}

@test "unknown verbs and missing arguments are usage errors" {
	run dlq frob
	assert_failure 2
	run dlq check
	assert_failure 2
	assert_output - <<'J'
dlq: check: give -e EXPR or --schema FILE
Usage: dlq check [-e EXPR]... [--schema FILE] [--dlq FILE] [FILE]...
Try 'dlq check --help' for more information.
J
}

@test "a dead-letter file with CRLF line ends replays, commits and parks as one with LF" {
	L='{"original_record":{"id":%d},"error_type":"x","error_message":"m","retry_count":%d,"failed_at":"2024-01-01T00:00:00Z","replayable":true,"source":{"tool":"t","file":"f","line":1}}\r\n'
	printf "$L" 1 0 2 0 > q
	run dlq replay q -- cat
	assert_success
	assert_output - <<'J'
{"id":1}
{"id":2}
J
	[ ! -s q ]
	run dlq replay q
	assert_success
	assert_output ''
	printf "$L" 1 0 2 0 > q
	dlq replay q > /dev/null
	run dlq replay q --commit
	assert_success
	[ ! -s q ]
	# parked in place, the rest kept: with LF from then on
	printf "$L" 1 5 2 0 > q
	run dlq replay q --max-retries 3 -- false
	assert_failure 2
	run jq -c '[.original_record.id,.replayable]' q
	assert_output - <<'J'
[1,false]
[2,true]
J
	[ "$(tr -d -c '\r' < q | wc -c)" = 0 ]
}

@test "check and retry refuse a --dlq or an output that is also an input" {
	printf '{"a":1}\n{"a":false}\n' > in
	cp in before
	run dlq check -e .a --dlq in in
	assert_failure 2
	assert_output 'dlq: --dlq in is also an input: a file written while it is read loses or repeats records; name another'
	run sh -c 'dlq check -e .a --dlq q < in >> in'
	assert_failure 2
	assert_output 'dlq: standard output is also an input (standard input): a file written while it is read loses or repeats records; name another'
	run dlq retry --dlq in in -- cat
	assert_failure 2
	assert_output 'dlq: --dlq in is also an input: a file written while it is read loses or repeats records; name another'
	cmp in before
	[ ! -s q ]
}

@test "replay refuses a standard output that is the dead-letter file, by any name" {
	printf '{"a":0}\n' | dlq check -e '.a > 0' --dlq q
	cp q before
	ln q q2
	for out in q q2; do
		run sh -c "dlq replay q >> $out"
		assert_failure 2
		assert_output 'dlq: standard output is also an input: a file written while it is read loses or repeats records; name another'
		run sh -c "dlq replay q -- cat >> $out"
		assert_failure 2
		assert_output 'dlq: standard output is also an input: a file written while it is read loses or repeats records; name another'
	done
	cmp q before
	[ ! -e q.replay ]
	run dlq stats q
	assert_success
}

@test "an -e that does not compile is refused in one line" {
	run dlq check -e '.a =='
	assert_failure 2
	assert_output - <<'E'
dlq: -e: '.a ==': jq: error: syntax error, unexpected $end (Unix shell quoting issues?) at <top-level>, line 1: .a ==; jq: 1 compile error
Try 'dlq check --help' for more information.
E
}

@test "replay and purge refuse a dead-letter file that does not exist, as stats does" {
	for c in "replay q.ndjson" "replay q.ndjson --commit" \
		"purge --older-than 1d q.ndjson" "stats q.ndjson"; do
		run dlq $c
		assert_failure 2
		assert_output 'dlq: q.ndjson: No such file or directory'
	done
	run ls
	assert_output ''
}

@test "replay and purge refuse a second name of the file before handing anything out: two replays ran at once, and a rewrite parted the names" {
	printf '{"id":%d}\n' 1 2 | dlq check -e 'false' --dlq q.ndjson > /dev/null
	ln -s q.ndjson l.ndjson
	ln q.ndjson h.ndjson
	for c in "replay l.ndjson -- cat" "replay l.ndjson" \
		"replay l.ndjson --commit" "purge --older-than 0s l.ndjson"; do
		run dlq $c
		assert_failure 2
		assert_output 'dlq: l.ndjson: a symbolic link; replay and purge rewrite the dead-letter file they name: name the file itself'
	done
	for f in q.ndjson h.ndjson; do
		for c in "replay $f -- cat" "replay $f" \
			"purge --older-than 0s $f"; do
			run dlq $c
			assert_failure 2
			assert_output "dlq: $f: the dead-letter file has 2 names (hard links); a rewrite replaces one name only and the names would part: keep one name"
		done
	done
	run ls
	assert_output - <<'E'
h.ndjson
l.ndjson
q.ndjson
E
	rm h.ndjson
	run dlq replay q.ndjson -- cat
	assert_success
	assert_output $'{"id":1}\n{"id":2}'
}

@test "replay and purge refuse a FIFO or a folder, which they could not rewrite, and make no lock for it" {
	mkfifo q.ndjson
	mkdir d
	for c in "replay q.ndjson" "replay q.ndjson --commit" \
		"purge --older-than 1d q.ndjson"; do
		run timeout 5 dlq $c
		assert_failure 2
		assert_output 'dlq: q.ndjson: not a regular file; replay and purge rewrite the dead-letter file they name'
		run timeout 5 dlq ${c/q.ndjson/d}
		assert_failure 2
		assert_output 'dlq: d: not a regular file; replay and purge rewrite the dead-letter file they name'
	done
	run ls
	assert_output - <<'E'
d
q.ndjson
E
}

@test "an option of another verb is refused naming that verb; a near miss of one is named" {
	run dlq check -e .a --commit
	assert_failure 2
	assert_line -n 0 "dlq: check: --commit does not apply to check (it is replay's)"
	run dlq stats --jitter q
	assert_failure 2
	assert_line -n 0 "dlq: stats: --jitter does not apply to stats (it is retry's)"
	run dlq retry --threads 2 -- cat
	assert_failure 2
	assert_line -n 0 "dlq: retry: --threads does not apply to retry (it is check's)"
	# every verb that takes it, not the first alone
	run dlq purge --older-than 1d x --stats
	assert_failure 2
	assert_line -n 0 "dlq: purge: --stats does not apply to purge (it is check's and retry's)"
	run dlq check -e .a --older-then 1d
	assert_failure 2
	assert_line -n 0 "dlq: check: unknown option '--older-then'; did you mean '--older-than'? (it applies to purge)"
	run checkpoint read -s ck --unitl-empty d
	assert_failure 2
	assert_line -n 0 "checkpoint: read: unknown option '--unitl-empty'; did you mean '--until-empty'? (it applies to run)"
}

@test "replay --commit refuses --max-retries, which it would ignore" {
	printf '{"original_record":{"id":1},"error_type":"x","error_message":"m","retry_count":5,"failed_at":"2024-01-01T00:00:00Z","replayable":true,"source":{"tool":"t","file":"f","line":1}}\n' > q
	dlq replay q > /dev/null
	run dlq replay q --max-retries 3 --commit
	assert_failure 2
	assert_output - <<'E'
dlq: replay: --max-retries does not apply to --commit (give it to the replay itself)
Usage: dlq replay FILE [--max-retries N] [--allow-unread] [-- CMD [ARG]...]
Try 'dlq replay --help' for more information.
E
	[ -s q ]
	run dlq replay q --commit
	assert_success
	[ ! -s q ]
}

@test "replay --commit on a removed file names the pending ledger left behind" {
	printf '{"original_record":{"id":1},"error_type":"x","error_message":"m","retry_count":0,"failed_at":"2024-01-01T00:00:00Z","replayable":true,"source":{"tool":"t","file":"f","line":1}}\n' > q
	dlq replay q > /dev/null
	rm q
	refused "dlq: q: No such file or directory; a replay of it is pending in q.replay, which nothing can commit or roll back now (remove it)" dlq replay q --commit
	rm q.replay
	refused "dlq: q: No such file or directory" dlq replay q --commit
}

@test "an option that takes one value is refused when given twice; -e adds up" {
	run dlq check -e .a --dlq a.ndjson --dlq b.ndjson
	assert_failure 2
	assert_line -n 0 "dlq: check: --dlq given twice ('a.ndjson', then 'b.ndjson'); give it once"
	run dlq purge --older-than 7d --older-than 1d q.ndjson
	assert_failure 2
	assert_line -n 0 "dlq: purge: --older-than given twice ('7d', then '1d'); give it once"
	run dlq retry --retries 1 --retries 2 -- cat
	assert_failure 2
	assert_line -n 0 "dlq: retry: --retries given twice ('1', then '2'); give it once"
	run sh -c "printf '{\"a\":1}\n{\"a\":2}\n' | dlq check -e '.a' -e '.a == 1'"
	assert_failure 2
	assert_line -n 0 '{"a":1}'
}

# A command that fails the first $1 times for each record.
flaky() {
	cat > flaky <<S
#!/bin/sh
r=\$(cat); k=\$(printf %s "\$r" | cksum | cut -d' ' -f1)
n=\$(cat "cnt.\$k" 2>/dev/null || echo 0); echo \$((n+1)) > "cnt.\$k"
if [ "\$n" -lt $1 ]; then echo "try \$n failed" >&2; exit 1; fi
echo "ok \$r"
S
	chmod +x flaky
}

@test "retry runs the command per record and retries failures" {
	flaky 2
	run sh -c 'printf "{\"a\":1}\n{\"a\":2}\n" | dlq retry --retries 2 --backoff 1ms..5ms -- ./flaky 2>/dev/null'
	assert_success
	assert_output - <<'J'
ok {"a":1}
ok {"a":2}
J
}

@test "retry takes --max-line as check does: a record check let through under a bound past 64M is not refused by the retry" {
	python3 -c "print('{\"a\":\"' + 'x' * 2000 + '\"}')" > long
	dlq check --max-line 4K -e '.a' long > passed
	run sh -c 'dlq retry --max-line 4K -- cat < passed | wc -c'
	assert_output 2009
	# under a lower bound it is a bad record, dead-lettered as too long
	run dlq retry --max-line 1K --dlq bad -- cat < passed
	assert_success
	assert_output ''
	run jq -r .error_type bad
	assert_output line_too_long
	refused 'dlq: <stdin>:1: line of 2008 bytes is longer than --max-line 1024' dlq retry --max-line 1K -- cat < passed
}

@test "retry ends a command's output with a newline when it lacks one, so outputs never merge" {
	printf '{"n":1}\n{"n":2}\n' > in.ndjson
	run dlq retry -j 2 -- sh -c 'jq -j .n' < in.ndjson
	assert_success
	assert_output - <<'E'
1
2
E
	run dlq retry -- sh -c 'cat > /dev/null' < in.ndjson
	assert_success
	assert_output ''
}

@test "retry dead-letters a record after its last failure with status and stderr" {
	flaky 5
	run sh -c 'printf "{\"a\":1}\n" | dlq retry --retries 1 --backoff 1ms..1ms --dlq bad.ndjson -- ./flaky 2>/dev/null'
	assert_success
	assert_output ''
	run why bad.ndjson
	assert_output '["command_failed","./flaky exited with status 1 after 2 attempts: try 1 failed",0,true]'
}

@test "retry's letter says the last attempt's stderr line, not an earlier attempt's" {
	run sh -c 'printf "{\"a\":1}\n" | dlq retry --retries 1 --backoff 1ms..1ms --dlq bad.ndjson -- sh -c "cat > /dev/null; [ -e n ] && exit 3; touch n; echo boom >&2; exit 1"'
	assert_success
	assert_output 'boom'
	run why bad.ndjson
	assert_output '["command_failed","sh exited with status 3 after 2 attempts",0,true]'
}

@test "retry without --dlq stops at a record that still fails" {
	run sh -c 'printf "{\"a\":1}\n" | dlq retry --retries 0 -- sh -c "echo boom >&2; exit 3" 2>&1'
	assert_failure 2
	assert_output - <<'J'
boom
dlq: <stdin>:1: sh exited with status 3 after 1 attempt: boom
J
}

@test "retry's stop counts the records up to the failing one, and says those -j had started after it" {
	run sh -c 'printf "{\"n\":%d}\n" 1 2 3 | dlq retry --retries 0 --stats -- sh -c "cat > /dev/null; exit 3"'
	assert_failure 2
	assert_line -n 0 'dlq: <stdin>:1: sh exited with status 3 after 1 attempt'
	assert_line -n 1 --partial '{"tool":"dlq","records_in":1,"records_out":0,"duplicates":0,"late":0,"dead_lettered":0,'
	run sh -c 'printf "{\"n\":%d}\n" 1 2 3 4 5 | dlq retry -j 3 --retries 0 --stats -- sh -c "r=\$(cat); case \$r in *1*) sleep 0.2; exit 3;; esac; echo \$r"'
	assert_failure 2
	assert_line -n 0 'dlq: <stdin>:1: sh exited with status 3 after 1 attempt'
	assert_line -n 1 'dlq: 2 records after it had their command started; their output is not passed on (--dlq FILE goes on past a failure)'
	assert_line -n 2 --partial '{"tool":"dlq","records_in":1,"records_out":0,"duplicates":0,"late":0,"dead_lettered":0,'
	assert_equal "${#lines[@]}" 3
}

@test "retry does not retry --permanent exit codes" {
	run sh -c 'printf "{\"a\":1}\n" | dlq retry --permanent 3,4 --retries 5 --backoff 1ms..1ms --dlq bad.ndjson -- sh -c "exit 4"'
	assert_success
	run why bad.ndjson
	assert_output '["command_failed","sh exited with status 4 after 1 attempt",0,true]'
}

@test "retry says a command killed by a signal was killed, and retries it even when 128 + the signal is --permanent" {
	run sh -c 'printf "{\"a\":1}\n" | dlq retry --permanent 137 --retries 1 --backoff 1ms..1ms --dlq bad.ndjson -- sh -c "cat > /dev/null; kill -9 \$\$"'
	assert_success
	run why bad.ndjson
	assert_output '["command_failed","sh was killed by signal 9 (SIGKILL) after 2 attempts",0,true]'
	rm bad.ndjson
	run sh -c 'printf "{\"a\":1}\n" | dlq retry --permanent 137 --retries 1 --backoff 1ms..1ms --dlq bad.ndjson -- sh -c "cat > /dev/null; exit 137"'
	assert_success
	run why bad.ndjson
	assert_output '["command_failed","sh exited with status 137 after 1 attempt",0,true]'
}

@test "retry kills an attempt past --timeout" {
	run sh -c 'printf "{\"a\":1}\n" | dlq retry --timeout 100ms --retries 1 --backoff 1ms..1ms --dlq bad.ndjson -- sleep 5'
	assert_success
	run why bad.ndjson
	assert_output '["command_failed","sleep timed out after 2 attempts",0,true]'
}

@test "retry takes a --timeout or backoff of centuries as never reached, and refuses --retries it cannot count" {
	# now + 106751 days is past the largest time: it wrapped to a
	# deadline long gone, and every attempt was killed at once
	run sh -c 'printf "{\"a\":1}\n" | dlq retry --timeout 106751d -- cat'
	assert_success
	assert_output '{"a":1}'
	# a first retry after 106751 days is still waited for, not run now
	echo '{"a":1}' > in.ndjson
	run timeout 1 dlq retry --retries 1 --backoff 106751d..106751d in.ndjson -- false
	assert_failure 124
	# 2^32 + 1 retries wrapped to 1, and 2^32 to 0
	refused "dlq: --retries: 4294967297 is more than 4294967294" dlq retry --retries 4294967297 -- cat
	refused "dlq: --retries: 4294967296 is more than 4294967294" dlq retry --retries 4294967296 --backoff 1ms..1ms -- cat
}

@test "retry -j keeps the output in input order" {
	seq 1 8 | sed 's/.*/{"n":&}/' > in.ndjson
	run dlq retry -j 4 in.ndjson -- sh -c 'r=$(cat); n=${r#*:}; n=${n%\}}; sleep 0.0$((9 - n)); echo "$r"'
	assert_success
	assert_output "$(cat in.ndjson)"
}

@test "retry backs off exponentially, capped" {
	# The same four attempts with (almost) no waiting first: what the
	# attempts themselves cost on this machine, however loaded, is taken
	# off the second run's time.
	flaky 3
	start=$(date +%s%N)
	run sh -c 'printf "{\"a\":1}\n" | dlq retry --retries 3 --backoff 1ms..1ms -- ./flaky 2>/dev/null'
	assert_success
	base=$(( ($(date +%s%N) - start) / 1000000 ))
	rm -f cnt.*
	start=$(date +%s%N)
	run sh -c 'printf "{\"a\":1}\n" | dlq retry --retries 3 --backoff 300ms..400ms -- ./flaky 2>/dev/null'
	assert_success
	ms=$(( ($(date +%s%N) - start) / 1000000 - base ))
	# 300 + 400 (capped, not 600) + 400 = 1100 ms of waiting; uncapped
	# would be 300 + 600 + 1200 = 2100
	echo "# waited $ms ms" >&3
	[ "$ms" -ge 700 ] && [ "$ms" -lt 1800 ]
}

@test "check killed with SIGKILL at random moments: no letter for a record past the next one not delivered" {
	# 18 MB, 3 records in 5 good: letters interleave with output
	python3 -c '
for i in range(200000):
    print("{\"n\":%d,\"ok\":%s,\"pad\":\"%s\"}" % (i, "true" if i % 5 < 3 else "false", "x" * 60))' > in.ndjson
	python3 - "$(trials 40 8 3)" <<'PY'
import json, os, random, subprocess, sys, time
good = [json.loads(l)["ok"] for l in open("in.ndjson")]
for trial in range(int(sys.argv[1])):
    for f in ("q", "out"):
        if os.path.exists(f):
            os.remove(f)
    with open("out", "wb") as o:
        p = subprocess.Popen(["dlq", "check", "-j", "2", "-e", ".ok",
                              "--dlq", "q", "in.ndjson"], stdout=o,
                             env=dict(os.environ, IDEM_PAR_CHUNK="4096"))
        time.sleep(random.uniform(0.0, 0.3))
        p.kill()
        p.wait()
    n = open("out", "rb").read().count(b"\n")
    # the line of the first good record not delivered
    seen, nextgood = 0, None
    for i, g in enumerate(good):
        if g:
            seen += 1
            if seen == n + 1:
                nextgood = i + 1
                break
    q = open("q", "rb").read() if os.path.exists("q") else b""
    # a kill can cut a write(2) short between pages: a torn last
    # letter, which the next writer cuts off (dlq_cut_torn)
    q = q[:q.rfind(b"\n") + 1]
    lines = [json.loads(l)["source"]["line"] for l in q.splitlines()]
    top = max(lines, default=0)
    want = [i + 1 for i, g in enumerate(good) if not g and i + 1 <= top]
    assert lines == want, "trial %d: letters are not the bad lines in order" % trial
    assert nextgood is None or top < nextgood, \
        "trial %d: a letter for line %d, past line %d never delivered" % (trial, top, nextgood)
PY
}

# dlq check --schema SCHEMA over in.ndjson exits 2 saying MESSAGE
schema_refused() {
	echo "$1" > s.json
	run dlq check --schema s.json in.ndjson
	assert_failure 2
	assert_output "$2"
}

@test "a schema keyword dlq check does not check is refused, with the nearest one; annotations pass" {
	printf '{"name":"toolong"}\n' > in.ndjson
	schema_refused '{"properties":{"name":{"type":"string","maxLength":3}}}' \
		"dlq: s.json: .name: maxLength is not a keyword dlq check checks (type, required, properties, enum, minimum, maximum, pattern): a record it should fail would pass"
	schema_refused '{"requried":["id"]}' \
		"dlq: s.json: requried is not a keyword dlq check checks (type, required, properties, enum, minimum, maximum, pattern): a record it should fail would pass; did you mean required?"
	schema_refused '{"type":"object","additionalProperties":false}' \
		"dlq: s.json: additionalProperties is not a keyword dlq check checks (type, required, properties, enum, minimum, maximum, pattern): a record it should fail would pass"
	# a keyword it checks, with a value of the wrong type, is no check
	for bad in '{"required":"name"}' '{"required":["name",1]}' '{"minimum":"5"}' '{"enum":"a"}' '{"properties":[]}' '{"pattern":5}'; do
		echo "$bad" > s.json
		run dlq check --schema s.json in.ndjson
		assert_failure 2
	done
	schema_refused '{"minimum":"5"}' \
		'dlq: s.json: minimum: want a number, not string'
	schema_refused '{"required":["name",1]}' \
		'dlq: s.json: required: want an array of member names, not number in it'
	# an empty enum passes nothing; a keyword twice is not two checks
	schema_refused '{"properties":{"name":{"enum":[]}}}' \
		'dlq: s.json: .name: enum: empty, so no record could pass'
	schema_refused '{"type":[]}' \
		'dlq: s.json: type: an empty list, so no record could pass'
	schema_refused '{"type":"string","type":"object"}' \
		'dlq: s.json: type given twice: give it once'
	schema_refused '{"type":"object","\u0074ype":"string"}' \
		'dlq: s.json: type given twice: give it once'
	schema_refused '{"properties":{"name":{"type":"string"},"n\u0061me":{"type":"number"}}}' \
		'dlq: s.json: .name: given twice in properties: give it once'
	# what only describes is no check, and passes
	echo '{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"x","title":"t","description":"d","$comment":"c","examples":[{}],"default":{},"properties":{"name":{"type":"string","description":"who"}}}' > s.json
	run dlq check --schema s.json in.ndjson
	assert_success
	assert_output '{"name":"toolong"}'
}

@test "retry gives its command no torn last line and no line that is not JSON: stopped, or dead-lettered" {
	run sh -c 'printf "{\"a\":1}\n{\"a\":2" | dlq retry --retries 0 -- cat'
	assert_failure 2
	assert_output - <<'E'
{"a":1}
dlq: <stdin>:2: unterminated last line from a pipe (its writer stopped mid-line)
E
	run sh -c 'printf "{\"a\":1}\nnot json\n{\"a\":3}\n" | dlq retry --retries 0 -- cat'
	assert_failure 2
	assert_output - <<'E'
{"a":1}
dlq: <stdin>:2: invalid JSON: invalid literal at byte 1
E
	run sh -c 'printf "{\"a\":1}\nnot json\n{\"a\":3}\n{\"a\":4" | dlq retry -j 4 --retries 0 --dlq bad.ndjson -- cat 2>/dev/null'
	assert_success
	assert_output - <<'E'
{"a":1}
{"a":3}
E
	run jq -c '[.original_record, .error_type, .replayable, .source.line]' bad.ndjson
	assert_output - <<'E'
["not json","invalid_json",true,2]
["{\"a\":4","torn_line",false,4]
E
}

@test "retry refuses --backoff, --jitter and --permanent with --retries 0: there is no retry for them to shape" {
	for o in "--backoff 1ms..2ms" --jitter "--permanent 2"; do
		run dlq retry --retries 0 $o -- cat < /dev/null
		assert_failure 2
		assert_line -n 0 "dlq: retry: ${o%% *} shapes the retries, and --retries 0 makes none"
	done
	run dlq retry --retries 1 --jitter --backoff 1ms..2ms -- cat < /dev/null
	assert_success
}

@test "stats refuses a file named twice, or by a second name: its entries would count twice" {
	printf '{"a":1}\n' | dlq check -e '.a > 1' --dlq bad.ndjson
	ln bad.ndjson again.ndjson
	run dlq stats bad.ndjson bad.ndjson
	assert_failure 2
	assert_output 'dlq: bad.ndjson: named twice: its records would count twice in the stats; name each once'
	run dlq stats bad.ndjson again.ndjson
	assert_failure 2
	assert_output 'dlq: again.ndjson: the same file as bad.ndjson (a hard link or a second name): its records would count twice in the stats; name each once'
}

@test "retry --stats counts the bytes it read, as every tool does" {
	printf '{"k":1}\n{"k":22}\n' > in.ndjson
	run sh -c 'dlq retry --retries 0 --stats in.ndjson -- cat 2>&1 >/dev/null | jq -c "[.records_in, .records_out, .bytes_in]"'
	assert_output '[2,2,17]'
}

@test "check names the member a typo away from one a record lacks" {
	printf '{"amount":2}\n' > in.ndjson
	run dlq check -e '.amout > 1' in.ndjson
	assert_failure 2
	assert_output 'dlq: in.ndjson:1: check failed: .amout > 1: .amout is missing (did you mean .amount?)'
	run dlq check -e '.amount > 1' -e '.note' in.ndjson
	assert_failure 2
	assert_output 'dlq: in.ndjson:1: check failed: .note: .note is missing'
}

@test "check names the member a typo away at any depth, in -e and in a schema's required" {
	printf '{"o":{"amount":2,"id":"x"}}\n' > in.ndjson
	run dlq check -e '.o.amout > 1' in.ndjson
	assert_failure 2
	assert_output 'dlq: in.ndjson:1: check failed: .o.amout > 1: .o.amout is missing (did you mean .o.amount?)'
	run dlq check -e '.o.amout' --dlq bad.ndjson in.ndjson
	assert_success
	run jq -r .error_message bad.ndjson
	assert_output 'check failed: .o.amout: .o.amout is missing (did you mean .o.amount?)'
	echo '{"properties":{"o":{"required":["id","amout"]}}}' > s.json
	run dlq check --schema s.json in.ndjson
	assert_failure 2
	assert_output 'dlq: in.ndjson:1: missing required member .o.amout (did you mean .o.amount?)'
	echo '{"required":["amout"]}' > s.json
	printf '{"amount":2}\n' > top.ndjson
	run dlq check --schema s.json top.ndjson
	assert_failure 2
	assert_output 'dlq: top.ndjson:1: missing required member .amout (did you mean .amount?)'
}

@test "retry runs one record at a time unless -j says more, as its --help and dlq(1) say" {
	printf '{"n":%d}\n' 1 2 3 > in.ndjson
	run dlq retry in.ndjson -- sh -c 'echo s >> log; sleep 0.1; echo e >> log; cat'
	assert_success
	assert_output "$(cat in.ndjson)"
	run cat log
	assert_output $'s\ne\ns\ne\ns\ne'
	run dlq retry --help
	assert_line '  -j, --jobs N           N records at once (default 1); output stays in'
	grep -q 'records in flight, 1 to 64 (default 1: one record at a time)' \
		"$BATS_TEST_DIRNAME/../man/dlq.1"
}

# EXIT STATUS: 75 is a replay's command exiting 75 (the replay is worth
# running again); retry's command exiting 75 is a failure like another,
# retried, and a record that still fails ends the run with 2, as the
# page says (it read "or command exited 75" for both).
@test "exit 75: a replay's command that exited 75; a retry's that still fails is 2" {
	printf 'not json\n' | dlq check -e .a --dlq bad.ndjson
	run dlq replay bad.ndjson -- sh -c 'cat > /dev/null; exit 75'
	assert_failure 75
	assert_output 'dlq: sh exited with status 75; nothing removed from bad.ndjson'
	run sh -c "printf '{\"n\":1}\n' |
		dlq retry --retries 1 --backoff 1ms..1ms -- sh -c 'cat > /dev/null; exit 75'"
	assert_failure 2
	assert_output 'dlq: <stdin>:1: sh exited with status 75 after 2 attempts'
	run dlq --help
	assert_line "replay or a replay's command exited 75."
}

# dlq --help gave retry as "dlq retry --retries N --backoff MIN..MAX ...",
# as if both were needed, where each has a default (3, 100ms..30s) and
# dlq(1)'s SYNOPSIS brackets them; it left out the FILEs retry reads
# and replay's --allow-unread.
@test "dlq --help's usage lines bracket what has a default and name what a verb takes" {
	run dlq --help
	assert_line '       dlq replay FILE [--max-retries N] [--allow-unread] [-- CMD [ARG]...]'
	assert_line '       dlq retry [--retries N] [--backoff MIN..MAX] [--jitter] [--timeout DUR]'
	assert_line '                 [-j N] [--permanent CODE,...] [--dlq FILE] [FILE]...'
	printf '{"n":1}\n' > in.ndjson
	run dlq retry in.ndjson -- cat
	assert_success
	assert_output '{"n":1}'
}

@test "check and retry refuse a file named twice, or by a hard link: its records would pass or run twice" {
	printf '{"id":1}\n' > a.ndjson
	ln a.ndjson b.ndjson
	refused 'dlq: a.ndjson: named twice: its records would count twice in the output; name each once' \
		dlq check -e .id a.ndjson a.ndjson
	refused 'dlq: b.ndjson: the same file as a.ndjson (a hard link or a second name): its records would count twice in the runs of the command; name each once' \
		dlq retry --retries 0 a.ndjson b.ndjson -- cat
	run sh -c 'dlq check -e .id - - < a.ndjson'
	assert_success
	assert_output '{"id":1}'
}
