/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-vault"

#include "config.h"

#include <string.h>

#include "pd-vault.h"

static void
test_normalize (void)
{
  const char *same[] = { "张三", "张 三", "张\u3000三", " 张三 " };
  g_autofree char *ref = pd_vault_normalize_name ("张三");

  for (guint i = 0; i < G_N_ELEMENTS (same); i++)
    {
      g_autofree char *n = pd_vault_normalize_name (same[i]);
      g_assert_cmpstr (n, ==, ref);
    }
  {
    g_autofree char *a = pd_vault_normalize_name ("ＺＨＡＮＧ San");
    g_autofree char *b = pd_vault_normalize_name ("zhangsan");
    g_assert_cmpstr (a, ==, b);
  }
  {
    g_autofree char *a = pd_vault_normalize_name ("阿卜杜·热合曼");
    g_assert_cmpstr (a, ==, "阿卜杜热合曼");
  }
}

static void
test_surname (void)
{
  struct { const char *name, *surname; } cases[] = {
    { "张三", "张" }, { "欧阳娜娜", "欧阳" }, { "诸葛明", "诸葛" }, { " 李四", "李" }, { "John Smith", "smith" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *s = pd_vault_surname (cases[i].name);
      g_assert_cmpstr (s, ==, cases[i].surname);
    }
}

static void
test_indexes (void)
{
  guint8 key[PD_KEY_SIZE], other[PD_KEY_SIZE];
  guint8 a[PD_INDEX_SIZE], b[PD_INDEX_SIZE], c[PD_INDEX_SIZE];

  memset (key, 1, sizeof key);
  memset (other, 2, sizeof other);
  pd_vault_index_name (key, "张三", a);
  pd_vault_index_name (key, "张 三", b);
  g_assert_cmpmem (a, sizeof a, b, sizeof b);
  pd_vault_index_name (other, "张三", c);
  g_assert_true (memcmp (a, c, sizeof a) != 0);   /* another pharmacy, another index */
  pd_vault_index_surname (key, "张三", b);
  g_assert_true (memcmp (a, b, sizeof a) != 0);   /* the surname index is its own */
  pd_vault_index_surname (key, "张伟", c);
  g_assert_cmpmem (b, sizeof b, c, sizeof c);

  g_assert_true (pd_vault_index_id_tail (key, "11010519900101123x", a));
  g_assert_true (pd_vault_index_id_tail (key, "110105199001011 23X", b));
  g_assert_cmpmem (a, sizeof a, b, sizeof b);
  g_assert_false (pd_vault_index_id_tail (key, "12", a));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vault/normalize", test_normalize);
  g_test_add_func ("/vault/surname", test_surname);
  g_test_add_func ("/vault/indexes", test_indexes);
  return g_test_run ();
}
