# shellcheck shell=bash
#
# lib-record.sh: shared code of record-failure.sh, record-success.sh and
# record-heuristic.sh. Sourced, never run. Needs bash (written for 3.2 and
# later, tested with 5.2) and coreutils (ln, sync, rm, mkdir, and date when
# bash is older than 4.2); never sqlite3 or git: elfsync indexes and commits
# the file once it is there.
#
# Everything that can be done in bash is: a fork costs milliseconds, tens of
# them on a loaded machine, and agents record in bursts. A run forks ln,
# sync twice, rm, and mkdir for a new folder.
#
# What a record script does, in order:
#   1. read flags (--title X or --title=X), else the environment variables
#      (FAILURE_TITLE, ...), else defaults; flags win over the environment;
#      an environment variable set to "" counts as unset;
#   2. prompt on the terminal, but only when stdin is a terminal and no field
#      came from a flag or the environment;
#   3. validate: valid UTF-8, the old length limits (in characters, i.e.
#      Unicode code points), severity and confidence words, required fields;
#      surrounding white space (as Go's unicode.IsSpace defines it) is
#      trimmed from every value first, tags are split on ',', trimmed and
#      empty ones dropped;
#   4. build the file exactly as frontmatter.Encode (Go) does; see
#      frontmatter/encode.go for the layout and the quoting rules;
#   5. write it to ROOT/memory/<folder>/.<name>.<pid>.<n>.tmp (created with
#      O_EXCL through noclobber), fsync it, hard-link it to YYYYMMDD_slug.md
#      (ln refuses an existing name, so two writers never clobber each other:
#      on a clash try -2, -3, ...), remove the temp file, fsync the folder;
#   6. print the new file's absolute path and exit 0. Any error: a message on
#      stderr, exit 1 (2 for a command-line mistake), and no temp file left.
#
# The whole script runs in the C locale so that bash works on bytes: the
# UTF-8 check, the character count and the quoting below depend on it.

export LC_ALL=C
unset CDPATH

# Old framework limits, in characters. The source limit is new: with it,
# even a record whose every character needs a 6-byte escape keeps its
# frontmatter under frontmatter.MaxFrontmatterSize.
ELF_MAX_TITLE=200
ELF_MAX_SUMMARY=5000
ELF_MAX_EXPLANATION=5000
ELF_MAX_RULE=500
ELF_MAX_DOMAIN=100
ELF_MAX_TAGS=500
ELF_MAX_SOURCE=500
ELF_MAX_SLUG=60
ELF_MAX_ATTEMPTS=10000

# One valid UTF-8 sequence (no overlong forms, no surrogates, at most
# U+10FFFF); a value must be a run of them. NUL cannot occur: bash strings
# cannot hold it.
ELF_UTF8_RE=$'^([\x01-\x7f]|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf][\x80-\xbf]|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf][\x80-\xbf]|[\xf1-\xf3][\x80-\xbf][\x80-\xbf][\x80-\xbf]|\xf4[\x80-\x8f][\x80-\xbf][\x80-\xbf])*$'

# White space trimmed from values: Go's unicode.IsSpace, as UTF-8.
ELF_SPACES=(' ' $'\t' $'\n' $'\v' $'\f' $'\r' $'\xc2\x85' $'\xc2\xa0'
	$'\xe1\x9a\x80' $'\xe2\x80\x80' $'\xe2\x80\x81' $'\xe2\x80\x82'
	$'\xe2\x80\x83' $'\xe2\x80\x84' $'\xe2\x80\x85' $'\xe2\x80\x86'
	$'\xe2\x80\x87' $'\xe2\x80\x88' $'\xe2\x80\x89' $'\xe2\x80\x8a'
	$'\xe2\x80\xa8' $'\xe2\x80\xa9' $'\xe2\x80\xaf' $'\xe2\x81\x9f'
	$'\xe3\x80\x80')

# Characters Quote escapes as \xNN or \uNNNN (besides \\ \" \n \t \r):
# ELF_ESC_FROM[i] (raw bytes) becomes ELF_ESC_TO[i]. C0 controls other than
# tab, newline and CR, DEL, the C1 controls U+0080-U+009F, U+2028, U+2029,
# U+FEFF, U+FFFE, U+FFFF. Same set as frontmatter.Quote.
ELF_ESC_FROM=()
ELF_ESC_TO=()
_elf_init_escapes() {
	local i h c
	for ((i = 1; i < 32; i++)); do
		case $i in 9 | 10 | 13) continue ;; esac
		printf -v h '%02X' "$i"
		printf -v c '%b' "\\x$h"
		ELF_ESC_FROM+=("$c")
		ELF_ESC_TO+=("\\x$h")
	done
	ELF_ESC_FROM+=($'\x7f')
	ELF_ESC_TO+=('\x7F')
	for ((i = 0x80; i < 0xa0; i++)); do
		printf -v h '%02X' "$i"
		printf -v c '%b' "\\xC2\\x$h"
		ELF_ESC_FROM+=("$c")
		ELF_ESC_TO+=("\\x$h")
	done
	ELF_ESC_FROM+=($'\xe2\x80\xa8' $'\xe2\x80\xa9' $'\xef\xbb\xbf' $'\xef\xbf\xbe' $'\xef\xbf\xbf')
	ELF_ESC_TO+=('\u2028' '\u2029' '\uFEFF' '\uFFFE' '\uFFFF')
}
_elf_init_escapes

ELF_PROG=${0##*/}
ELF_TMP=

elf_die() {
	printf '%s: %s\n' "$ELF_PROG" "$1" >&2
	exit "${2:-1}"
}

elf_usage_error() {
	printf '%s: %s\nRun %s --help for usage.\n' "$ELF_PROG" "$1" "$ELF_PROG" >&2
	exit 2
}

# The temp file goes whatever happens; the final name, once linked, stays.
_elf_cleanup() {
	if [ -n "$ELF_TMP" ]; then
		rm -f -- "$ELF_TMP"
		ELF_TMP=
	fi
}
trap _elf_cleanup EXIT
trap 'exit 130' INT
trap 'exit 129' HUP
trap 'exit 143' TERM

# elf_trim VALUE: REPLY = VALUE without leading and trailing ELF_SPACES.
elf_trim() {
	local s=$1 sp changed=1
	while [ "$changed" = 1 ]; do
		changed=0
		for sp in "${ELF_SPACES[@]}"; do
			while [[ $s == "$sp"* ]]; do
				s=${s#"$sp"}
				changed=1
			done
			while [[ $s == *"$sp" ]]; do
				s=${s%"$sp"}
				changed=1
			done
		done
	done
	REPLY=$s
}

# elf_chars VALUE: REPLY = the number of characters of a valid UTF-8 VALUE
# (its bytes that are not continuation bytes).
elf_chars() {
	local t=${1//[$'\x80'-$'\xbf']/}
	REPLY=${#t}
}

# elf_check NAME VALUE MAX: die unless VALUE is valid UTF-8 of at most MAX
# characters.
elf_check() {
	if ! [[ $2 =~ $ELF_UTF8_RE ]]; then
		elf_die "$1 is not valid UTF-8"
	fi
	elf_chars "$2"
	if [ "$REPLY" -gt "$3" ]; then
		elf_die "$1 is $REPLY characters long; the limit is $3"
	fi
}

# elf_quote VALUE: REPLY = VALUE as a YAML double-quoted scalar.
elf_quote() {
	local s=$1 i bs=\\ dq='"'
	s=${s//"$bs"/"$bs$bs"}
	s=${s//"$dq"/"$bs$dq"}
	s=${s//$'\n'/"${bs}n"}
	s=${s//$'\t'/"${bs}t"}
	s=${s//$'\r'/"${bs}r"}
	for ((i = 0; i < ${#ELF_ESC_FROM[@]}; i++)); do
		if [[ $s == *"${ELF_ESC_FROM[i]}"* ]]; then
			s=${s//"${ELF_ESC_FROM[i]}"/"${ELF_ESC_TO[i]}"}
		fi
	done
	REPLY="\"$s\""
}

# elf_heading VALUE: REPLY = VALUE with every CR and LF turned into a space.
elf_heading() {
	local s=$1
	s=${s//$'\r'/ }
	s=${s//$'\n'/ }
	REPLY=$s
}

ELF_UPPER=(A B C D E F G H I J K L M N O P Q R S T U V W X Y Z)
ELF_LOWER=(a b c d e f g h i j k l m n o p q r s t u v w x y z)

# elf_lower VALUE: REPLY = VALUE with ASCII letters lower-cased (no ${s,,}:
# bash 3.2 lacks it).
elf_lower() {
	local s=$1 i
	for ((i = 0; i < 26; i++)); do
		if [[ $s == *"${ELF_UPPER[i]}"* ]]; then
			s=${s//"${ELF_UPPER[i]}"/"${ELF_LOWER[i]}"}
		fi
	done
	REPLY=$s
}

# elf_upper VALUE: REPLY = VALUE with ASCII letters upper-cased.
elf_upper() {
	local s=$1 i
	for ((i = 0; i < 26; i++)); do
		if [[ $s == *"${ELF_LOWER[i]}"* ]]; then
			s=${s//"${ELF_LOWER[i]}"/"${ELF_UPPER[i]}"}
		fi
	done
	REPLY=$s
}

# elf_slug TITLE: REPLY = frontmatter.Slug(TITLE).
elf_slug() {
	local s
	elf_lower "$1"
	s=${REPLY//[!a-z0-9]/-}
	while [[ $s == *--* ]]; do
		s=${s//--/-}
	done
	s=${s#-}
	s=${s%-}
	s=${s:0:ELF_MAX_SLUG}
	s=${s%-}
	REPLY=${s:-untitled}
}

# elf_tags VALUE: REPLY = VALUE split on ',', each tag trimmed, empty tags
# dropped, joined with ','.
elf_tags() {
	local rest=$1 out='' tag
	while :; do
		tag=${rest%%,*}
		elf_trim "$tag"
		if [ -n "$REPLY" ]; then
			out=${out:+$out,}$REPLY
		fi
		case $rest in
		*,*) rest=${rest#*,} ;;
		*) break ;;
		esac
	done
	REPLY=$out
}

# elf_severity VALUE: REPLY = 1-5 from a number or low/medium/high/critical.
elf_severity() {
	elf_lower "$1"
	case $REPLY in
	1 | 2 | 3 | 4 | 5) ;;
	low) REPLY=2 ;;
	medium) REPLY=3 ;;
	high) REPLY=4 ;;
	critical) REPLY=5 ;;
	*) elf_die "severity \"$1\": want 1-5 or low, medium, high, critical" ;;
	esac
}

# elf_confidence VALUE: REPLY = the confidence as frontmatter.FormatConfidence
# writes it, from low/medium/high (0.3/0.6/0.9) or a decimal number from 0
# to 1 with at most 15 decimals ("0.75", ".5", "1", "1.0").
elf_confidence() {
	local int frac
	elf_lower "$1"
	case $REPLY in
	low) REPLY=0.3 && return ;;
	medium) REPLY=0.6 && return ;;
	high) REPLY=0.9 && return ;;
	esac
	if [[ $REPLY =~ ^([01])(\.([0-9]{0,15}))?$ ]]; then
		int=${BASH_REMATCH[1]}
		frac=${BASH_REMATCH[3]}
	elif [[ $REPLY =~ ^\.([0-9]{1,15})$ ]]; then
		int=0
		frac=${BASH_REMATCH[1]}
	else
		elf_die "confidence \"$1\": want a number from 0 to 1 (at most 15 decimals) or low, medium, high"
	fi
	while [[ $frac == *0 ]]; do
		frac=${frac%0}
	done
	if [ "$int" = 1 ] && [ -n "$frac" ]; then
		elf_die "confidence \"$1\": want a number from 0 to 1 (at most 15 decimals) or low, medium, high"
	fi
	REPLY=$int.${frac:-0}
}

# elf_now: REPLY = the created time, UTC RFC 3339 in whole seconds: ELF_NOW
# (for tests; any RFC 3339 time) or the clock.
elf_now() {
	local t=${ELF_NOW:-}
	if [ -z "$t" ]; then
		# bash 4.2 and later format the time without a fork.
		if ! TZ=UTC0 printf -v REPLY '%(%Y-%m-%dT%H:%M:%SZ)T' -1 2>/dev/null; then
			REPLY=$(date -u +%Y-%m-%dT%H:%M:%SZ) || elf_die "cannot read the clock"
		fi
	elif [[ $t =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]]; then
		REPLY=$t
	elif [[ $t =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$ ]] &&
		REPLY=$(date -u -d "$t" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null); then
		:
	else
		elf_die "ELF_NOW \"$t\" is not an RFC 3339 time"
	fi
}

# elf_clean PATH: REPLY = the absolute PATH cleaned lexically, as Go's
# filepath.Clean does: no "//", "." or ".." elements, no trailing "/".
elf_clean() {
	local rest=$1/ seg out=''
	while [ -n "$rest" ]; do
		seg=${rest%%/*}
		rest=${rest#*/}
		case $seg in
		'' | .) ;;
		..) out=${out%/*} ;;
		*) out=$out/$seg ;;
		esac
	done
	REPLY=${out:-/}
}

# elf_root FLAG_VALUE: REPLY = the absolute ROOT: --root, else $ELF_HOME,
# else the framework's own $ELF_BASE_PATH, else ~/.claude/emergent-learning.
elf_root() {
	local r=$1
	if [ -z "$r" ]; then
		r=${ELF_HOME:-}
	fi
	if [ -z "$r" ]; then
		r=${ELF_BASE_PATH:-}
	fi
	if [ -z "$r" ]; then
		if [ -z "${HOME:-}" ]; then
			elf_die "no --root, no \$ELF_HOME and no \$HOME"
		fi
		r=$HOME/.claude/emergent-learning
	fi
	case $r in
	/*) ;;
	*) r=$PWD/$r ;;
	esac
	elf_clean "$r"
	# A mistyped root must not become a new, empty memory: refuse it with
	# the command that creates one (the words of `elfsync record`).
	if ! [ -e "$REPLY" ]; then
		r=$REPLY
		if ! [[ $r =~ ^[A-Za-z0-9/._+,:@%=-]+$ ]]; then
			r="'${r//\'/\'\\\'\'}'"
		fi
		elf_die "root $REPLY does not exist; to create it, run: elfsync init --root $r" 2
	elif ! [ -d "$REPLY" ]; then
		elf_die "root $REPLY is a file, not a folder" 2
	fi
}

# elf_write ROOT FOLDER CREATED SLUG CONTENT: write CONTENT into
# ROOT/memory/FOLDER under a new name; REPLY = its absolute path.
elf_write() {
	local dir=$1/memory/$2 created=$3 slug=$4 content=$5 stem cand n target name
	if ! [ -d "$dir" ]; then
		mkdir -p -- "$dir" || elf_die "cannot create $dir"
	fi
	stem=${created:0:4}${created:5:2}${created:8:2}_$slug

	# The temp file: a dot-file ending in .tmp, which elfsync ignores,
	# created exclusively (noclobber opens with O_EXCL).
	set -C
	n=0
	while :; do
		cand=$dir/.$stem.$$.$n.tmp
		if { : >"$cand"; } 2>/dev/null; then
			ELF_TMP=$cand
			break
		fi
		n=$((n + 1))
		if [ "$n" -ge "$ELF_MAX_ATTEMPTS" ]; then
			elf_die "cannot create a temp file in $dir"
		fi
	done
	set +C
	printf '%s' "$content" >"$ELF_TMP" || elf_die "cannot write $ELF_TMP"
	sync "$ELF_TMP" || elf_die "cannot flush $ELF_TMP to disk"

	# ln makes the final name or fails if it exists, atomically: no writer
	# ever replaces another's file.
	n=1
	while :; do
		name=$stem.md
		if [ "$n" -gt 1 ]; then
			name=$stem-$n.md
		fi
		target=$dir/$name
		if ! [ -e "$target" ] && ! [ -L "$target" ]; then
			if ln -- "$ELF_TMP" "$target" 2>/dev/null; then
				break
			fi
			# Another writer took the name since the test above (go on),
			# or ln cannot link at all: try once more, this time with
			# ln's own message on stderr.
			if ! [ -e "$target" ] && ! [ -L "$target" ]; then
				if ln -- "$ELF_TMP" "$target"; then
					break
				fi
				elf_die "cannot link $ELF_TMP to $target"
			fi
		fi
		n=$((n + 1))
		if [ "$n" -gt "$ELF_MAX_ATTEMPTS" ]; then
			elf_die "no free name for $stem.md in $dir after $ELF_MAX_ATTEMPTS tries"
		fi
	done
	rm -f -- "$ELF_TMP" || true
	ELF_TMP=
	# The new directory entry: flushed too, best effort (not every system's
	# sync takes a directory).
	sync "$dir" 2>/dev/null || true
	REPLY=$target
}

# elf_usage KIND: the --help text.
elf_usage() {
	local up
	elf_upper "$1"
	up=$REPLY
	case $1 in
	heuristic)
		cat <<EOF
Usage: $ELF_PROG --domain DOMAIN --rule RULE [--explanation TEXT]
       [--confidence low|medium|high|0-1] [--source SOURCE] [--tags a,b] [--root ROOT]

Write a new heuristic to ROOT/memory/heuristics/YYYYMMDD_slug.md, atomically
and under a name no other file has, and print its path. elfsync indexes and
commits it; this script never touches SQLite or git.

Flags (each may also be given as --flag=value; flags win over the environment):
  --domain DOMAIN          required; at most $ELF_MAX_DOMAIN characters   (HEURISTIC_DOMAIN)
  --rule RULE              required; at most $ELF_MAX_RULE characters   (HEURISTIC_RULE)
  --explanation TEXT       at most $ELF_MAX_EXPLANATION characters   (HEURISTIC_EXPLANATION)
  --confidence C           low=0.3, medium=0.6, high=0.9 or 0-1; default 0.5   (HEURISTIC_CONFIDENCE)
  --source SOURCE          default "observation"; at most $ELF_MAX_SOURCE characters   (HEURISTIC_SOURCE)
  --tags a,b               comma-separated; at most $ELF_MAX_TAGS characters   (HEURISTIC_TAGS)
  --root ROOT              default \$ELF_HOME, else \$ELF_BASE_PATH, else ~/.claude/emergent-learning
  -h, --help               show this help
EOF
		;;
	*)
		cat <<EOF
Usage: $ELF_PROG --title TITLE [--domain DOMAIN] [--severity 1-5|low|medium|high|critical]
       [--tags a,b] [--summary TEXT] [--root ROOT]

Write a new $1 to ROOT/memory/$2/YYYYMMDD_slug.md, atomically and
under a name no other file has, and print its path. elfsync indexes and
commits it; this script never touches SQLite or git.

Flags (each may also be given as --flag=value; flags win over the environment):
  --title TITLE            required; at most $ELF_MAX_TITLE characters   (${up}_TITLE)
  --domain DOMAIN          at most $ELF_MAX_DOMAIN characters   (${up}_DOMAIN)
  --severity S             1-5 or low=2, medium=3, high=4, critical=5; default 3   (${up}_SEVERITY)
  --tags a,b               comma-separated; at most $ELF_MAX_TAGS characters   (${up}_TAGS)
  --summary TEXT           at most $ELF_MAX_SUMMARY characters   (${up}_SUMMARY)
  --root ROOT              default \$ELF_HOME, else \$ELF_BASE_PATH, else ~/.claude/emergent-learning
  -h, --help               show this help

With no flags and no ${up}_* variables, and stdin a terminal, it asks.
EOF
		;;
	esac
}

# elf_prompt LABEL: REPLY = a line read from the terminal ("" at end of input).
elf_prompt() {
	REPLY=
	read -r -p "$1: " REPLY || true
}

# record_main KIND FOLDER ARGS...: the whole script. KIND is failure,
# success or heuristic; FOLDER its folder under memory/.
record_main() {
	local kind=$1 folder=$2 prefix field value given=0 root_flag=
	shift 2
	elf_upper "$kind"
	prefix=$REPLY

	# Field values: f_<field>; flagged lists the fields a flag gave.
	local f_title='' f_domain='' f_severity='' f_tags='' f_summary='' f_rule='' f_explanation='' f_confidence='' f_source=''
	local fields flagged=' '
	if [ "$kind" = heuristic ]; then
		fields="domain rule explanation confidence source tags"
	else
		fields="title domain severity tags summary"
	fi

	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help | -help)
			elf_usage "$kind" "$folder"
			exit 0
			;;
		--)
			shift
			break
			;;
		--*=*)
			field=${1%%=*}
			field=${field#--}
			value=${1#*=}
			;;
		--*)
			field=${1#--}
			case " root $fields " in
			*" $field "*) ;;
			*) elf_usage_error "unknown flag --$field" ;;
			esac
			if [ $# -lt 2 ]; then
				elf_usage_error "flag --$field needs a value"
			fi
			value=$2
			shift
			;;
		*)
			elf_usage_error "unexpected argument \"$1\""
			;;
		esac
		shift
		if [ "$field" = root ]; then
			root_flag=$value
			continue
		fi
		case " $fields " in
		*" $field "*) ;;
		*) elf_usage_error "unknown flag --$field" ;;
		esac
		printf -v "f_$field" '%s' "$value"
		flagged+="$field "
		given=1
	done
	if [ $# -gt 0 ]; then
		elf_usage_error "unexpected argument \"$1\""
	fi

	# The environment fills what no flag gave.
	local env
	for field in $fields; do
		elf_upper "$field"
		env=${prefix}_$REPLY
		case $flagged in
		*" $field "*) continue ;;
		esac
		value=${!env:-}
		if [ -n "$value" ]; then
			printf -v "f_$field" '%s' "$value"
			given=1
		fi
	done

	if [ "$given" = 0 ] && [ -t 0 ]; then
		if [ "$kind" = heuristic ]; then
			elf_prompt "Domain" && f_domain=$REPLY
			elf_prompt "Rule" && f_rule=$REPLY
			elf_prompt "Explanation" && f_explanation=$REPLY
			elf_prompt "Confidence (low, medium, high or 0-1) [0.5]" && f_confidence=$REPLY
			elf_prompt "Source [observation]" && f_source=$REPLY
			elf_prompt "Tags (comma-separated)" && f_tags=$REPLY
		else
			elf_prompt "Title" && f_title=$REPLY
			elf_prompt "Domain" && f_domain=$REPLY
			elf_prompt "Severity (1-5, low, medium, high, critical) [3]" && f_severity=$REPLY
			elf_prompt "Tags (comma-separated)" && f_tags=$REPLY
			elf_prompt "Summary" && f_summary=$REPLY
		fi
	fi

	# Validate: UTF-8 first (so the trims and counts work on characters),
	# then trim, then limits and words.
	for field in title domain severity tags summary rule explanation confidence source; do
		value=f_$field
		value=${!value}
		if ! [[ $value =~ $ELF_UTF8_RE ]]; then
			elf_die "$field is not valid UTF-8"
		fi
		elf_trim "$value"
		printf -v "f_$field" '%s' "$REPLY"
	done
	elf_tags "$f_tags"
	f_tags=$REPLY
	elf_check domain "$f_domain" "$ELF_MAX_DOMAIN"
	elf_check tags "$f_tags" "$ELF_MAX_TAGS"

	local root created content title
	elf_now
	created=$REPLY

	if [ "$kind" = heuristic ]; then
		[ -n "$f_domain" ] || elf_die "domain is required (--domain or HEURISTIC_DOMAIN)"
		[ -n "$f_rule" ] || elf_die "rule is required (--rule or HEURISTIC_RULE)"
		elf_check rule "$f_rule" "$ELF_MAX_RULE"
		elf_check explanation "$f_explanation" "$ELF_MAX_EXPLANATION"
		elf_check source "$f_source" "$ELF_MAX_SOURCE"
		if [ -n "$f_confidence" ]; then
			elf_confidence "$f_confidence"
			f_confidence=$REPLY
		else
			f_confidence=0.5
		fi
		f_source=${f_source:-observation}
		title=$f_rule
		content=$'---\ntype: heuristic\n'
		elf_quote "$f_rule" && content+="title: $REPLY"$'\n'
		elf_quote "$f_domain" && content+="domain: $REPLY"$'\n'
		elf_quote "$f_tags" && content+="tags: $REPLY"$'\n'
		elf_quote "$f_rule" && content+="rule: $REPLY"$'\n'
		elf_quote "$f_explanation" && content+="explanation: $REPLY"$'\n'
		content+="confidence: $f_confidence"$'\n'
		elf_quote "$f_source" && content+="source_type: $REPLY"$'\n'
		content+="created: \"$created\""$'\n---\n\n'
		elf_heading "$f_rule" && content+="# $REPLY"$'\n'
		if [ -n "$f_explanation" ]; then
			content+=$'\n'"$f_explanation"$'\n'
		fi
	else
		[ -n "$f_title" ] || elf_die "title is required (--title or ${prefix}_TITLE)"
		elf_check title "$f_title" "$ELF_MAX_TITLE"
		elf_check summary "$f_summary" "$ELF_MAX_SUMMARY"
		if [ -n "$f_severity" ]; then
			elf_severity "$f_severity"
			f_severity=$REPLY
		else
			f_severity=3
		fi
		title=$f_title
		content=$'---\n'"type: $kind"$'\n'
		elf_quote "$f_title" && content+="title: $REPLY"$'\n'
		elf_quote "$f_domain" && content+="domain: $REPLY"$'\n'
		content+="severity: $f_severity"$'\n'
		elf_quote "$f_tags" && content+="tags: $REPLY"$'\n'
		elf_quote "$f_summary" && content+="summary: $REPLY"$'\n'
		content+="created: \"$created\""$'\n---\n\n'
		elf_heading "$f_title" && content+="# $REPLY"$'\n'
		if [ -n "$f_summary" ]; then
			content+=$'\n## Summary\n\n'"$f_summary"$'\n'
		fi
	fi

	elf_root "$root_flag"
	root=$REPLY
	elf_slug "$title"
	elf_write "$root" "$folder" "$created" "$REPLY" "$content"
	printf '%s\n' "$REPLY"
}
