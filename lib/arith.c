/*
 * arith: parse once into a small tree, evaluate per record on the
 * scanner's bytes with lib/decimal.  Precedence as jq's: * /, then + -,
 * then comparisons (not chained), then and, then or, then a pipe into
 * floor, ceil, round, trunc or fabs; left to right within a level, and
 * and or stop early as jq's do.  A unary minus is jq 1.6's: of all the
 * * / after it (-a / b / c is -((a / b) / c), and 10 / -2 / -5 is
 * 10 / -(2 / -5), 25).
 */
#include "arith.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "decimal.h"
#include "scan.h"
#include "xalloc.h"

enum kind { K_NUM, K_PATH, K_NEG, K_ABS, K_INT, K_BIN, K_AND, K_OR };

struct node {
	enum kind kind;
	char op; /* K_BIN: + - * /, or = ! < l > g for == != < <= > >= */
	enum dec_to_int how; /* K_INT: floor ceil round trunc */
	struct dec num;
	struct path path;
	struct node *l, *r;
};

struct arith {
	struct node *root;
};

struct parser {
	const char *s;
	size_t i, depth;
	bool bad, computes;
};

/* Deeper nesting is left to libjq's parser: no recursion without end. */
#define MAX_DEPTH 256

static void node_free(struct node *n)
{
	if (!n)
		return;
	node_free(n->l);
	node_free(n->r);
	if (n->kind == K_PATH)
		path_free(&n->path);
	free(n);
}

static struct node *node_new(enum kind k)
{
	struct node *n = xcalloc(1, sizeof *n);
	n->kind = k;
	return n;
}

static void skip_ws(struct parser *p)
{
	while (strchr(" \t\r\n", p->s[p->i]) && p->s[p->i])
		p->i++;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static struct node *parse_pipe(struct parser *p);

/* A number literal as jq lexes one with digits before any point. */
static struct node *parse_number(struct parser *p)
{
	const char *s = p->s;
	size_t j = p->i;
	while (is_digit(s[j]))
		j++;
	if (s[j] == '.')
		for (j++; is_digit(s[j]);)
			j++;
	if (s[j] == 'e' || s[j] == 'E') {
		size_t k = j + 1;
		if (s[k] == '+' || s[k] == '-')
			k++;
		if (is_digit(s[k]))
			for (j = k; is_digit(s[j]);)
				j++;
	}
	struct node *n = node_new(K_NUM);
	if (dec_parse(s + p->i, j - p->i, &n->num) != 0)
		p->bad = true; /* "1." or past 38 digits: libjq's */
	p->i = j;
	return n;
}

/* A plain path: up to an operator, a blank or a bracket closing outside
 * it; path_parse decides whether it is one. */
static struct node *parse_path(struct parser *p)
{
	const char *s = p->s;
	size_t j = p->i;
	int depth = 0;
	for (; s[j]; j++) {
		char c = s[j];
		if (c == '"') {
			for (j++; s[j] && s[j] != '"'; j++)
				if (s[j] == '\\' && (!s[j + 1] || s[++j] == '('))
					p->bad = true; /* interpolation */
			if (!s[j])
				break;
		} else if (c == '[') {
			depth++;
		} else if (c == ']') {
			depth--;
		} else if (depth == 0 && strchr(" \t\r\n+-*/%<>=!(),|;#?", c)) {
			break;
		}
	}
	struct node *n = node_new(K_PATH);
	char *t = xstrndup(s + p->i, j - p->i);
	if (path_parse(t, &n->path) != 0) {
		p->bad = true;
		n->kind = K_NUM; /* nothing to free */
	}
	free(t);
	p->i = j;
	return n;
}

static struct node *parse_mul(struct parser *p);

static struct node *parse_unary(struct parser *p)
{
	skip_ws(p);
	char c = p->s[p->i];
	if (p->depth >= MAX_DEPTH) {
		p->bad = true;
		return node_new(K_NUM);
	}
	if (c == '-') {
		p->i++;
		p->depth++;
		struct node *x = parse_mul(p); /* jq's '-' Exp */
		p->depth--;
		if (x->kind == K_NUM) { /* a negative literal */
			x->num.coef = -x->num.coef;
			return x;
		}
		struct node *n = node_new(K_NEG);
		n->l = x;
		p->computes = true;
		return n;
	}
	if (c == '(') {
		p->i++;
		p->depth++;
		struct node *x = parse_pipe(p);
		p->depth--;
		skip_ws(p);
		if (p->s[p->i] != ')')
			p->bad = true;
		else
			p->i++;
		return x;
	}
	if (is_digit(c))
		return parse_number(p);
	if (c == '.' && !is_digit(p->s[p->i + 1]))
		return parse_path(p);
	p->bad = true;
	return node_new(K_NUM);
}

static struct node *binary(struct parser *p, char op, struct node *l,
			   struct node *(*next)(struct parser *))
{
	struct node *n = node_new(K_BIN);
	n->op = op;
	n->l = l;
	n->r = next(p);
	return n;
}

static struct node *parse_mul(struct parser *p)
{
	struct node *n = parse_unary(p);
	while (!p->bad) {
		skip_ws(p);
		char c = p->s[p->i];
		if (!(c == '*' || c == '/') || p->s[p->i + 1] == '=' ||
		    p->s[p->i + 1] == '/')
			break; /* *= /= are assignments, // is jq's */
		p->i++;
		p->computes = true;
		n = binary(p, c, n, parse_unary);
	}
	return n;
}

static struct node *parse_add(struct parser *p)
{
	struct node *n = parse_mul(p);
	while (!p->bad) {
		skip_ws(p);
		char c = p->s[p->i];
		if (!(c == '+' || c == '-') || p->s[p->i + 1] == '=')
			break;
		p->i++;
		p->computes = true;
		n = binary(p, c, n, parse_mul);
	}
	return n;
}

static struct node *parse_cmp(struct parser *p)
{
	static const struct {
		const char *text;
		char op;
	} ops[] = {{"==", '='}, {"!=", '!'}, {"<=", 'l'},
		   {">=", 'g'}, {"<", '<'},  {">", '>'}};
	struct node *n = parse_add(p);
	skip_ws(p);
	for (size_t k = 0; !p->bad && k < sizeof ops / sizeof *ops; k++) {
		size_t len = strlen(ops[k].text);
		if (strncmp(p->s + p->i, ops[k].text, len) != 0)
			continue;
		p->i += len;
		return binary(p, ops[k].op, n, parse_add);
	}
	return n;
}

/* The word w, whole, at the parser's place: then past it. */
static bool word(struct parser *p, const char *w)
{
	size_t n = strlen(w);
	if (strncmp(p->s + p->i, w, n) != 0)
		return false;
	char c = p->s[p->i + n];
	if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    is_digit(c))
		return false;
	p->i += n;
	return true;
}

/* next (w next)...: the operands of and (w "and") or of or, left first. */
static struct node *parse_joined(struct parser *p, const char *w,
				 enum kind k,
				 struct node *(*next)(struct parser *))
{
	struct node *n = next(p);
	while (!p->bad) {
		skip_ws(p);
		if (!word(p, w))
			break;
		struct node *l = n;
		n = node_new(k);
		n->l = l;
		n->r = next(p);
	}
	return n;
}

static struct node *parse_and(struct parser *p)
{
	return parse_joined(p, "and", K_AND, parse_cmp);
}

static struct node *parse_or(struct parser *p)
{
	return parse_joined(p, "or", K_OR, parse_and);
}

/* A value piped to floor, ceil, round, trunc or fabs (jq's math on one
 * number), each exact on a decimal: 0.57 * 100 | floor is 57, where
 * libjq's 56.99999999999999 floors to 56. */
static struct node *parse_pipe(struct parser *p)
{
	static const struct {
		const char *name;
		enum dec_to_int how;
		bool abs;
	} fns[] = {{"floor", DEC_FLOOR, false}, {"ceil", DEC_CEIL, false},
		   {"round", DEC_ROUND, false}, {"trunc", DEC_TRUNC, false},
		   {"fabs", DEC_TRUNC, true}}; /* how: unused by fabs */
	struct node *n = parse_or(p);
	while (!p->bad) {
		skip_ws(p);
		if (p->s[p->i] != '|' || p->s[p->i + 1] == '=')
			break; /* |= is an update */
		p->i++;
		skip_ws(p);
		size_t k = 0;
		while (k < sizeof fns / sizeof *fns && !word(p, fns[k].name))
			k++;
		if (k == sizeof fns / sizeof *fns) {
			p->bad = true;
			break;
		}
		struct node *x = n;
		n = node_new(fns[k].abs ? K_ABS : K_INT);
		n->how = fns[k].how;
		n->l = x;
		p->computes = true;
	}
	return n;
}

struct arith *arith_parse(const char *src)
{
	struct parser p = {.s = src};
	struct node *root = parse_pipe(&p);
	skip_ws(&p);
	if (p.bad || p.s[p.i] || !p.computes) {
		node_free(root);
		return NULL;
	}
	struct arith *a = xmalloc(sizeof *a);
	a->root = root;
	return a;
}

void arith_free(struct arith *a)
{
	if (!a)
		return;
	node_free(a->root);
	free(a);
}

/* ---- evaluation ---- */

enum vkind { V_NUM, V_NULL, V_BOOL, V_OTHER };

struct val {
	enum vkind kind;
	struct dec num;
	bool truth;
};

struct ctx {
	const struct scan_record *rec;
	char *err;
	size_t errlen;
	bool failed;
};

static struct val other(void)
{
	return (struct val){.kind = V_OTHER};
}

static struct val lookup(struct ctx *c, const struct path *path)
{
	const char *v, *why;
	size_t n;
	switch (path_lookup_record(path, c->rec, &v, &n, &why)) {
	case PATH_MISSING:
		return (struct val){.kind = V_NULL};
	case PATH_TYPE_ERROR:
		return other(); /* libjq says it, in its words */
	case PATH_FOUND:
		break;
	}
	if (n == 4 && !memcmp(v, "null", 4))
		return (struct val){.kind = V_NULL};
	if ((n == 4 && !memcmp(v, "true", 4)) ||
	    (n == 5 && !memcmp(v, "false", 5)))
		return (struct val){.kind = V_BOOL, .truth = v[0] == 't'};
	struct val r = {.kind = V_NUM};
	if ((v[0] != '-' && !is_digit(v[0])) || dec_parse(v, n, &r.num) != 0)
		return other(); /* not a number, or past 38 digits */
	return r;
}

static const char *const verb[] = {['+'] = "added", ['-'] = "subtracted",
				   ['*'] = "multiplied", ['/'] = "divided"};

static struct val fail(struct ctx *c, const struct dec *x, char op,
		       const struct dec *y, const char *why)
{
	char a[DEC_STRMAX], b[DEC_STRMAX];
	dec_format(x, a);
	dec_format(y, b);
	snprintf(c->err, c->errlen, "%s %c %s %s", a, op, b, why);
	c->failed = true;
	return other();
}

static struct val eval(struct ctx *c, const struct node *n);

/* The quotient under a floor (ceil, round, trunc) node n, and whether
 * a minus stands between them, or NULL. */
static const struct node *int_div(const struct node *n, bool *neg)
{
	const struct node *d = n->l;
	*neg = d->kind == K_NEG;
	if (*neg)
		d = d->l;
	return d->kind == K_BIN && d->op == '/' ? d : NULL;
}

/* x / y | floor (ceil, round, trunc), and -(x / y) | floor: the
 * integer of the exact quotient, which has one even when the quotient
 * has no end -- .ts / 3600 | floor is an hour's number, not a refusal. */
static struct val eval_int_div(struct ctx *c, const struct node *n,
			       const struct node *d, bool neg)
{
	struct val x = eval(c, d->l);
	if (c->failed || x.kind == V_OTHER)
		return other();
	struct val y = eval(c, d->r);
	if (c->failed || y.kind == V_OTHER)
		return other();
	if (x.kind != V_NUM || y.kind != V_NUM)
		return other(); /* null / 2, 2 / null: jq's error */
	struct val r = {.kind = V_NUM};
	struct dec nx = x.num;
	if (neg)
		nx.coef = -nx.coef;
	int rc = dec_div_integral(&nx, &y.num, n->how, &r.num);
	if (rc == DEC_BY_ZERO)
		return fail(c, &x.num, '/', &y.num,
			    "cannot be divided because the divisor is zero");
	if (rc != 0) {
		char why[96];
		snprintf(why, sizeof why, "cannot be divided exactly in %d "
			 "digits", DEC_DIGITS);
		return fail(c, &x.num, '/', &y.num, why);
	}
	return r;
}

static struct val eval(struct ctx *c, const struct node *n)
{
	bool neg;
	const struct node *d = n->kind == K_INT ? int_div(n, &neg) : NULL;
	if (d)
		return eval_int_div(c, n, d, neg);
	if (n->kind == K_NUM)
		return (struct val){.kind = V_NUM, .num = n->num};
	if (n->kind == K_PATH)
		return lookup(c, &n->path);
	struct val x = eval(c, n->l);
	if (c->failed || x.kind == V_OTHER)
		return other();
	if (n->kind == K_AND || n->kind == K_OR) {
		/* jq's truth: all but false and null; the right side only
		 * when the left leaves the answer open */
		bool t = x.kind == V_BOOL ? x.truth : x.kind == V_NUM;
		if (t == (n->kind == K_OR))
			return (struct val){.kind = V_BOOL, .truth = t};
		struct val y = eval(c, n->r);
		if (c->failed || y.kind == V_OTHER)
			return other();
		t = y.kind == V_BOOL ? y.truth : y.kind == V_NUM;
		return (struct val){.kind = V_BOOL, .truth = t};
	}
	if (n->kind == K_NEG || n->kind == K_ABS || n->kind == K_INT) {
		if (x.kind != V_NUM)
			return other(); /* libjq says "number required" */
		if (n->kind == K_INT)
			x.num = dec_integral(&x.num, n->how);
		else if (n->kind == K_NEG || x.num.coef < 0)
			x.num.coef = -x.num.coef;
		return x;
	}
	struct val y = eval(c, n->r);
	if (c->failed || y.kind == V_OTHER)
		return other();
	if (n->op == '+' && (x.kind == V_NULL || y.kind == V_NULL))
		return x.kind == V_NULL ? y : x; /* jq: null + a is a */
	if (x.kind != V_NUM || y.kind != V_NUM)
		return other();
	struct val r = {.kind = V_NUM};
	int rc = 0;
	switch (n->op) {
	case '+':
		r.num = x.num;
		rc = dec_add(&r.num, &y.num);
		break;
	case '-':
		r.num = x.num;
		rc = dec_sub(&r.num, &y.num);
		break;
	case '*':
		rc = dec_mul(&x.num, &y.num, &r.num);
		break;
	case '/':
		rc = dec_div(&x.num, &y.num, &r.num);
		if (rc == DEC_BY_ZERO)
			return fail(c, &x.num, '/', &y.num,
				    "cannot be divided because the divisor "
				    "is zero");
		if (rc == DEC_ENDLESS)
			return fail(c, &x.num, '/', &y.num,
				    "has no exact decimal value (libjq would "
				    "round it to a double)");
		break;
	default: {
		int k = dec_cmp(&x.num, &y.num);
		r.kind = V_BOOL;
		r.truth = n->op == '=' ? k == 0 : n->op == '!' ? k != 0
			: n->op == '<' ? k < 0 : n->op == 'l' ? k <= 0
			: n->op == '>' ? k > 0 : k >= 0;
		return r;
	}
	}
	if (rc != 0 || !dec_fits(&r.num)) {
		char why[96];
		snprintf(why, sizeof why, "cannot be %s exactly in %d digits",
			 verb[(unsigned char)n->op], DEC_DIGITS);
		return fail(c, &x.num, n->op, &y.num, why);
	}
	return r;
}

enum arith_status arith_eval(const struct arith *a,
			     const struct scan_record *rec, struct buf *out,
			     char *err, size_t errlen)
{
	struct ctx c = {.rec = rec, .err = err, .errlen = errlen};
	struct val v = eval(&c, a->root);
	if (c.failed)
		return ARITH_ERROR;
	buf_reset(out);
	switch (v.kind) {
	case V_NUM: {
		char t[DEC_STRMAX];
		buf_add(out, t, dec_format(&v.num, t));
		return ARITH_VALUE;
	}
	case V_BOOL:
		buf_adds(out, v.truth ? "true" : "false");
		return ARITH_VALUE;
	case V_NULL:
		buf_adds(out, "null");
		return ARITH_VALUE;
	default:
		return ARITH_OTHER;
	}
}
