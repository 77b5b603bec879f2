/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "test-config"

#include "config.h"

#include <string.h>

#include "pd-config.h"

/* cli.md's sample, inline comment and all. */
static const char sample[] =
  "[pharmacy]\n"
  "fixmedins_code=P11010500123\n"
  "fixmedins_name=示例大药房\n"
  "mdtrtarea_admvs=110105\n"
  "\n"
  "[hospital]\n"
  "url=http://127.0.0.1:8080/fhir\n"
  "token_url=http://127.0.0.1:8080/oauth/token\n"
  "client_id=pharmacy-1\n"
  "client_secret=s3cret\n"
  "\n"
  "[insurance]\n"
  "url=http://127.0.0.1:8080/nhsa/fsi/api/rsfComIfsService/callService\n"
  "paasid=pharmacy-1\n"
  "token=t0ken\n"
  "terminal=1\n"
  "operator=clerk01        ; default for night jobs; a signed-in clerk's own operator number wins\n"
  "operator_name=李会计\n"
  "\n"
  "[courier]\n"
  "url=http://127.0.0.1:8080/courier\n"
  "app_key=k\n"
  "app_secret=s\n"
  "source_id=73753\n"
  "shop_no=shop-1\n";

static void
test_sample (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdConfig) c = pd_config_load_data (sample, strlen (sample), "client.ini", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (c->fixmedins_code, ==, "P11010500123");
  g_assert_cmpstr (c->fixmedins_name, ==, "示例大药房");
  g_assert_cmpstr (c->hospital_url, ==, "http://127.0.0.1:8080/fhir");
  g_assert_cmpstr (c->insurance_operator, ==, "clerk01");
  g_assert_cmpstr (c->insurance_operator_name, ==, "李会计");
  g_assert_cmpint (c->insurance_terminal, ==, 1);
  g_assert_cmpstr (c->courier_shop_no, ==, "shop-1");
  g_assert_null (c->hospital_ca_file);
}

static void
expect_refused (const char *text,
                const char *words)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PdConfig) c = pd_config_load_data (text, strlen (text), "bad.ini", &error);

  g_assert_null (c);
  g_assert_error (error, PD_CONFIG_ERROR, PD_CONFIG_ERROR_INVALID);
  if (strstr (error->message, words) == NULL)
    g_error ("“%s” does not name “%s”", error->message, words);
}

static void
test_refusals (void)
{
  /* Plain http only to this machine (hospital.md). */
  expect_refused ("[hospital]\nurl=http://hospital.example.cn/fhir\n", "[hospital] url");
  expect_refused ("[courier]\nurl=ftp://127.0.0.1/courier\n", "[courier] url");
  expect_refused ("[insurance]\nurl=not a url\n", "[insurance] url");
  expect_refused ("[insurance]\nterminal=12\n", "terminal");
  expect_refused ("[pharmacy]\nfixmedins_code=P1\n", "fixmedins_code");
  expect_refused ("this is not an ini file\n", "bad.ini");
}

static void
test_https_and_loopback (void)
{
  g_assert_true (pd_config_check_url ("https://fhir.hospital.example.cn/fhir", "url", NULL));
  g_assert_true (pd_config_check_url ("http://localhost:8080/fhir", "url", NULL));
  g_assert_true (pd_config_check_url ("http://[::1]:8080/fhir", "url", NULL));
  g_assert_true (pd_config_check_url ("http://127.0.0.2/fhir", "url", NULL));
  g_assert_false (pd_config_check_url ("http://10.0.0.1/fhir", "url", NULL));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/config/sample", test_sample);
  g_test_add_func ("/config/refusals", test_refusals);
  g_test_add_func ("/config/https-and-loopback", test_https_and_loopback);
  return g_test_run ();
}
