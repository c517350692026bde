/*===- cjson.h - JSON printing of the C driver (cmain.c) ----------------------===*
 *
 * Objects built as key/value lists and printed as llvm::json::OStream prints them with indent 2
 * (keys sorted, doubles with 17 significant digits, non-finite as null), so that the C driver's
 * output compares directly with the C++ driver's. Static functions: included by cmain.c only
 * (the cross driver is one object, lib/qcc/<arch>/qcc_cmain.o).
 *
 *===----------------------------------------------------------------------===*/
#ifndef QCC_LIB_CODEGEN_RUNTIME_CJSON_H
#define QCC_LIB_CODEGEN_RUNTIME_CJSON_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { J_INT, J_NUM, J_STR, J_OBJ, J_ARR };
typedef struct jobj jobj;
typedef struct {
  const char *key;
  int kind;
  long long i;
  double d;
  const char *s;
  jobj *o;      /* J_OBJ */
  jobj **arr;   /* J_ARR */
  int n_arr;
} jval;
struct jobj {
  jval v[24];
  int n;
};

static jval *jadd(jobj *o, const char *key, int kind) {
  jval *v = &o->v[o->n++];
  memset(v, 0, sizeof *v);
  v->key = key;
  v->kind = kind;
  return v;
}
static void jint(jobj *o, const char *k, long long x) { jadd(o, k, J_INT)->i = x; }
static void jnum(jobj *o, const char *k, double x) { jadd(o, k, J_NUM)->d = x; }
static void jstr(jobj *o, const char *k, const char *s) { jadd(o, k, J_STR)->s = s; }
static void jsub(jobj *o, const char *k, jobj *sub) { jadd(o, k, J_OBJ)->o = sub; }

static int jcmp(const void *a, const void *b) {
  return strcmp(((const jval *)a)->key, ((const jval *)b)->key);
}

static void jstring(const char *s) {
  putchar('"');
  for (; *s; ++s) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      printf("\\%c", ch);
    else if (ch == '\n')
      printf("\\n");
    else if (ch == '\t')
      printf("\\t");
    else if (ch == '\r')
      printf("\\r");
    else if (ch < 0x20)
      printf("\\u%04x", ch);
    else
      putchar(ch);
  }
  putchar('"');
}

static void jindent(int level) { printf("%*s", 2 * level, ""); }

static void jprint(jobj *o, int level);

static void jvalue(const jval *v, int level) {
  int k;
  switch (v->kind) {
  case J_INT: printf("%lld", v->i); break;
  case J_NUM:
    if (isfinite(v->d))
      printf("%.17g", v->d);
    else
      printf("null");
    break;
  case J_STR: jstring(v->s); break;
  case J_OBJ: jprint(v->o, level); break;
  case J_ARR:
    if (v->n_arr == 0) {
      printf("[]");
      break;
    }
    printf("[\n");
    for (k = 0; k < v->n_arr; ++k) {
      jindent(level + 1);
      jprint(v->arr[k], level + 1);
      printf(k + 1 < v->n_arr ? ",\n" : "\n");
    }
    jindent(level);
    putchar(']');
    break;
  }
}

static void jprint(jobj *o, int level) {
  int k;
  if (o->n == 0) {
    printf("{}");
    return;
  }
  qsort(o->v, (size_t)o->n, sizeof o->v[0], jcmp);
  printf("{\n");
  for (k = 0; k < o->n; ++k) {
    jindent(level + 1);
    jstring(o->v[k].key);
    printf(": ");
    jvalue(&o->v[k], level + 1);
    printf(k + 1 < o->n ? ",\n" : "\n");
  }
  jindent(level);
  putchar('}');
}

#endif /* QCC_LIB_CODEGEN_RUNTIME_CJSON_H */
