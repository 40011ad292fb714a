#!/usr/bin/env bats
# jq's math functions (sqrt, pow, log10, fmod, sin...) in a jq program
# give their exact decimal value, where libm's doubles are near it
# (pow(0.1; 2) is 0.010000000000000002, exp10(4) 10000.000000000002), or
# refuse the record, at the call, even inside try, ? or // (lib/expr.c
# math_fns, lib/decmath.c).

load helpers

key() { window --tumble 1h -t .t -g "$1" --agg 'n=count()' in | jq -c .key; }

@test "every math function gives its exact value where it has one" {
	printf '%s\n' '{"t":1,"a":0.1}' > in
	run jq -c -n '[0.1 | pow(.; 2), (4 | exp10), (3.7 | modf)]'
	assert_output '[0.010000000000000002,10000.000000000002,[0.7000000000000002,3]]' # libjq alone
	run key '[(.a | pow(.; 2)), (4 | exp10), (3.7 | modf)]'
	assert_output '[0.01,10000,[0.7,3]]'
	run key '[(0.01 | sqrt), (-8 | cbrt), (0.000001 | cbrt), pow(0.0001; 0.25), pow(100; 1.5), pow(0.5; -3), pow(-2; 3), pow(0; 0), pow(-1; 1e300), hypot(0.3; 0.4)]'
	assert_output '[0.1,-2,0.01,0.1,1000,8,-8,1,1,0.5]'
	run key '[(3 | exp2), (-3 | exp2), (-2 | exp10), (8 | log2), (0.125 | log2), (1000 | log10), (0.001 | log10), (0.1 | logb), (3 | significand)]'
	assert_output '[8,0.125,0.01,3,-3,3,-3,-4,1.5]'
	run key '[(0.1 | frexp), (-3.7 | modf), ldexp(3; -2), scalb(3; 1), scalbln(3; -1), (-0.1 | fabs), fmin(0.1; 0.2), fmax(0.1; 0.2), copysign(3; -0), fdim(0.3; 0.1), fdim(0.1; 0.3)]'
	assert_output '[[0.8,-3],[-0.7,-3],0.75,6,1.5,0.1,0.1,0.2,-3,0.2,0]'
	run jq -c -n '[fmod(0.3; 0.1), drem(0.3; 0.1), fma(0.1; 0.1; 0)]'
	assert_output '[0.09999999999999998,-2.7755575615628914e-17,0.010000000000000002]' # libjq alone
	run key '[fmod(0.3; 0.1), fmod(-5.5; 2), drem(0.3; 0.1), drem(5; 2), drem(7; 2), drem(5.5; 2), remainder(-5; 3), fma(0.1; 0.1; 0), fma(0.1; 0.2; 0.3), nextafter(1; 1), nexttoward(2; 2)]'
	assert_output '[0,-1.5,0,1,-1,-0.5,1,0.01,0.32,1,2]'
	# the transcendental ones at their exact points
	run key '[(0 | sin, cos, tan, asin, atan, sinh, cosh, tanh, asinh, atanh, erf, erfc, exp, expm1, log1p, j0, j1), (1 | log, acos, acosh, gamma, lgamma, lgamma_r), (2 | lgamma), (5 | tgamma), atan2(0; 1), jn(0; 0), jn(3; 0)]'
	assert_output '[0,1,0,0,0,0,1,0,0,0,0,1,1,0,0,1,0,0,0,0,0,0,[0,1],0,24,0,1,0]'
	# and the signs of zero libm gives them
	run key '[(-0 | sqrt, cbrt, sin, expm1), atan2(-0; 1), (-3 | modf | .[0])] | tostring'
	assert_output '"[-0,-0,-0,-0,-0,-0]"'
}

@test "a math function with no exact decimal value is a bad record, even inside try, ? or //" {
	printf '%s\n' '{"t":1,"a":0.1}' > in
	for k in '[.a | sqrt]' '[(.a | sqrt)? // 0]' '[try (.a | sqrt) catch 0]'; do
		run dedup -k "$k" in
		assert_failure 2
		assert_output "dedup: in:1: key $k: 0.1 | sqrt has no exact decimal value (libjq would give 0.31622776601683794, a double near it); jq's math is exact or refused (idem(7))"
	done
	no() { # PROGRAM MESSAGE: the key program refused with MESSAGE
		run dedup -k "$1" in
		assert_failure 2
		assert_output "dedup: in:1: key $1: $2"
	}
	# (libm's last digit of a value near an irrational one is its own)
	near() { # PROGRAM CALL: the key program refused as CALL with none
		run dedup -k "$1" in
		assert_failure 2
		assert_output --regexp "^dedup: in:1: key .*: $2 has no exact decimal value \\(libjq would give [-0-9.e]+(, \\.\\.\\.)?, a double near it\\); jq's math is exact or refused \\(idem\\(7\\)\\)\$"
	}
	near '[2 | cbrt]' '2 \| cbrt'
	near '[pow(2; 0.1)]' 'pow\(2; 0.1\)'
	near '[pow(0.5; 0.01)]' 'pow\(0.5; 0.01\)'
	near '[hypot(1; 1)]' 'hypot\(1; 1\)'
	near '[0.5 | exp2]' '0.5 \| exp2'
	near '[3 | log2]' '3 \| log2'
	near '[2 | log10]' '2 \| log10'
	near '[2 | exp]' '2 \| exp'
	near '[1e-20 | exp]' '1e-20 \| exp'
	near '[1 | sin]' '1 \| sin'
	near '[0.5 | cos]' '0.5 \| cos'
	near '[atan2(0; -1)]' 'atan2\(0; -1\)'
	near '[0.5 | tgamma]' '0.5 \| tgamma'
	near '[3 | lgamma]' '3 \| lgamma'
	near '[0.5 | lgamma_r]' '0.5 \| lgamma_r'
	near '[1 | y1]' '1 \| y1'
	near '[yn(1; 1)]' 'yn\(1; 1\)'
	near '[1 | j0]' '1 \| j0'
	near '[jn(1; 1)]' 'jn\(1; 1\)'
	for f in sqrt cbrt exp exp2 exp10 expm1 log log2 log10 log1p sin cos tan asin acos atan sinh cosh tanh asinh atanh erf erfc gamma lgamma tgamma lgamma_r j0 j1 y0 y1; do
		near "[.a * 3 | $f]" "0.3 \\| $f"
	done
	# an exact value a double cannot hold, or past 38 digits
	no '[pow(3; 34)]' 'pow(3; 34) is 16677181699666569, which a double cannot hold (libjq holds numbers as doubles)'
	no '[pow(10; 400)]' 'pow(10; 400) is 1e+400, which a double cannot hold (libjq holds numbers as doubles)'
	no '[25 | tgamma]' '25 | tgamma is 620448401733239439360000, which a double cannot hold (libjq holds numbers as doubles)'
	no '[pow(1.5; 200)]' 'pow(1.5; 200) cannot be computed exactly in 38 digits'
	no '[ldexp(0.1; -200)]' 'ldexp(0.1; -200) cannot be computed exactly in 38 digits'
	no '[1e300 | frexp]' '1e+300 | frexp cannot be computed exactly in 38 digits'
	no '[1e300 | significand]' '1e+300 | significand cannot be computed exactly in 38 digits'
	no '[fma(1e300; 1e300; 1)]' 'fma(1e+300; 1e+300; 1) cannot be computed exactly in 38 digits'
	no '[fdim(1e30; 1e-30)]' 'fdim(1e+30; 1e-30) cannot be computed exactly in 38 digits'
	no '[fmod(1e300; 3)]' 'fmod(1e+300; 3) cannot be computed exactly in 38 digits'
	no '[drem(1e300; 7)]' 'drem(1e+300; 7) cannot be computed exactly in 38 digits'
	no '[remainder(1e300; 7)]' 'remainder(1e+300; 7) cannot be computed exactly in 38 digits'
	# no finite value: nan and infinite are no record's numbers
	no '[-0.1 | sqrt]' '-0.1 | sqrt has no finite value (libjq gives nan)'
	no '[0 | log]' '0 | log has no finite value (libjq gives -infinite)'
	no '[pow(0; -1)]' 'pow(0; -1) has no finite value (libjq gives infinite)'
	no '[fmod(1; 0)]' 'fmod(1; 0) has no finite value (libjq gives nan)'
	no '[0 | y0]' '0 | y0 has no finite value (libjq gives -infinite)'
	no '[0 | logb]' '0 | logb has no finite value (libjq gives -infinite)'
	near '[1.5 | acosh]' '1.5 \| acosh'
	no '[0.5 | acosh]' '0.5 | acosh has no finite value (libjq gives nan)'
	no '[scalb(3; 0.5)]' 'scalb(3; 0.5) has no finite value (libjq gives nan)'
	no '[infinite | fabs]' 'infinite | fabs has no exact value: nan and infinite are not numbers a record holds'
	no '[fmin(nan; 1)]' 'fmin(nan; 1) has no exact value: nan and infinite are not numbers a record holds'
	no '[fmax(1; infinite)]' 'fmax(1; infinite) has no exact value: nan and infinite are not numbers a record holds'
	no '[copysign(1; nan)]' 'copysign(1; nan) has no exact value: nan and infinite are not numbers a record holds'
	no '[nan | modf]' 'nan | modf has no exact value: nan and infinite are not numbers a record holds'
	# an argument jq would truncate, a double's neighbour
	no '[ldexp(3; 0.5)]' 'ldexp(3; 0.5): jq would take 0.5 as an integer, dropping its fraction; write an integer'
	no '[jn(1.5; 0)]' 'jn(1.5; 0): jq would take 1.5 as an integer, dropping its fraction; write an integer'
	no '[yn(0.5; 1)]' 'yn(0.5; 1): jq would take 0.5 as an integer, dropping its fraction; write an integer'
	no '[scalbln(3; 1.5)]' 'scalbln(3; 1.5): jq would take 1.5 as an integer, dropping its fraction; write an integer'
	no '[nextafter(1; 2)]' 'nextafter(1; 2) is the double next to 1, and a decimal has no next number (idem(7))'
	no '[nexttoward(0.1; 0)]' 'nexttoward(0.1; 0) is the double next to 0.1, and a decimal has no next number (idem(7))'
}

@test "comparisons, sorts, groups and text of jq's math see the exact value, not libjq's double" {
	printf '%s\n' '{"t":1,"a":0.1,"x":[0.1,0.3,0.2]}' > in
	run jq -c 'if (.a | pow(.; 2)) == 0.01 then 1 else 2 end' in
	assert_output 2 # libjq alone: 0.010000000000000002
	run key 'if (.a | pow(.; 2)) == 0.01 then 1 else 2 end'
	assert_output 1
	run jq -c '[.x[] | select(pow(.; 2) <= 0.04)]' in
	assert_output '[0.1]' # libjq alone: 0.04000000000000001
	run key '[.x[] | select(pow(.; 2) <= 0.04)]'
	assert_output '[0.1,0.2]'
	run key '[.x | map(pow(.; 2)) | unique, min, max, sort, (group_by(.) | length)]'
	assert_output '[[0.01,0.04,0.09],0.01,0.09,[0.01,0.04,0.09],3]'
	run key '[.x | min_by(pow(.; 2) - 0.04 | fabs), (map(pow(.; 2) | tostring) | join(","))]'
	assert_output '[0.2,"0.01,0.09,0.04"]'
	run jq -c -n '[(4 | exp10) == 10000, (1e-20 | exp) == 1]'
	assert_output '[false,true]' # libjq alone: neither is the exact value
	run key '[(1000 | log10) == 3, (4 | exp10) == 10000]'
	assert_output '[true,true]'
	run dedup -k '[(1e-20 | exp? // 1) == 1]' in
	assert_failure 2
	assert_output --partial ': 1e-20 | exp has no exact decimal value'
	# what libjq's doubles would have compared, sorted or measured
	# without showing them is refused at the call
	for k in '(.a | sqrt) > 0.31622776601683794' '[.a | sqrt] | sort' '.a | sqrt | tostring | length' '[.x[] | sqrt] | unique | length'; do
		run dedup -k "$k" in
		assert_failure 2
		assert_output "dedup: in:1: key $k: 0.1 | sqrt has no exact decimal value (libjq would give 0.31622776601683794, a double near it); jq's math is exact or refused (idem(7))"
	done
}

@test "math keeps jq's errors, argument order and the program's own definitions" {
	printf '%s\n' '{"t":1,"a":"x","n":4}' > in
	run dedup -k '[.a | sqrt]' in
	assert_failure 2
	assert_output 'dedup: in:1: key [.a | sqrt]: string ("x") number required'
	run dedup -k '[pow(.a; 2)]' in
	assert_failure 2
	assert_output 'dedup: in:1: key [pow(.a; 2)]: string ("x") number required'
	# pow10 is exp10 where libjq has it; Debian's was built without
	if jq -n '1 | pow10' > /dev/null 2>&1; then
		run key '[.n | pow10]'
		assert_output '[10000]'
	else
		run dedup -k '[.n | pow10]' in
		assert_failure 2
		assert_output 'dedup: in:1: key [.n | pow10]: Error: pow10/0 not found at build time'
	fi
	run jq -c -n '[pow(1, 2; 3, 4), fma(1, 2; 3; 0, 10)]'
	assert_output '[1,8,1,16,3,6,13,16]'
	run key '[pow(1, 2; 3, 4), fma(1, 2; 3; 0, 10)]'
	assert_output '[1,8,1,16,3,6,13,16]'
	run key 'def pow(a; b): 7; [pow(.n; 0.5), (.n | sqrt)]'
	assert_output '[7,2]'
	# a program that names no math function has no math definitions
	run key '[.n * 0.1, (.n | floor), (.n | tostring)]'
	assert_output '[0.4,4,"4"]'
}

@test "gmtime and localtime give the exact seconds, and the second before 1970 that floor(x) names" {
	printf '%s\n' '{"t":1,"a":1234567.3,"b":-0.5,"c":-86400.25}' > in
	run jq -c '[(.a, .b, .c) | gmtime], [.b, .c | todate]' in
	assert_output - <<'E'
[[1970,0,15,6,56,7.300000000046566,4,14],[1970,0,1,0,0,0.5,4,0],[1969,11,31,0,0,0.75,3,364]]
["1970-01-01T00:00:00Z","1969-12-31T00:00:00Z"]
E
	run key '[(.a, .b, .c) | gmtime]'
	assert_output '[[1970,0,15,6,56,7.3,4,14],[1969,11,31,23,59,59.5,3,364],[1969,11,30,23,59,59.75,2,363]]'
	run key '[(.b, .c) | todate, todateiso8601, strftime("%T")]'
	assert_output '["1969-12-31T23:59:59Z","1969-12-31T23:59:59Z","23:59:59","1969-12-30T23:59:59Z","1969-12-30T23:59:59Z","23:59:59"]'
	run key '[.a | gmtime | .[5] > 7.3, .[5] == 7.3]'
	assert_output '[false,true]' # libjq alone: [true,false]
	run env TZ=America/New_York window --tumble 1h -t .t -g '[.b | localtime, strflocaltime("%T")]' --agg 'n=count()' in
	assert_output --partial '"key":[[1969,11,31,18,59,59.5,3,364],"18:59:59"]'
	# an array is strftime's own; what is no time stays jq's error
	run key '[[1970,0,1,5,0,0,4,0] | strftime("%H"), todate]'
	assert_output '["05","1970-01-01T05:00:00Z"]'
	run dedup -k '[.x | gmtime]' in
	assert_failure 2
	assert_output 'dedup: in:1: key [.x | gmtime]: gmtime() requires numeric inputs'
}

@test "a nan from tonumber, fromjson or the program is a bad record, not the null libjq writes" {
	printf '%s\n' '{"id":"nan"}' '{"id":null}' > in
	# "nan" | tonumber was null: one key with the record whose id is null
	run dedup -k '.id | tonumber?' in
	assert_failure 2
	assert_output 'dedup: in:1: key .id | tonumber?: "nan" reads as a nan (not a number), which JSON has no value for: libjq writes it as null, another value'
	echo '{"s":"[1,NaN]"}' > j
	run dedup -k '.s | fromjson | tojson' j
	assert_failure 2
	assert_output --partial '"[1,NaN]" reads as a nan (not a number)'
	for p in nan '[1, nan] | sort' '{a: nan}'; do
		run dedup -k "$p" j
		assert_failure 2
		assert_output "dedup: j:1: key $p: a nan (not a number), which JSON has no value for: libjq writes it as null, another value"
	done
	# a nan the program tests for, or compares, is no value of it
	run dedup -k '[nan | isnan, (nan < 1)]' j
	assert_success
	assert_output '{"s":"[1,NaN]"}'
}
