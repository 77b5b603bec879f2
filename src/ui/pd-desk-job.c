/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pd-desk-job"

#include "config.h"

#include "pd-desk-job.h"

typedef struct {
  PdSession      *session;
  char           *path;
  PdDeskJobFunc   func;
  gpointer        data;
  GDestroyNotify  data_free;
} Job;

static void
job_free (gpointer user_data)
{
  Job *job = user_data;

  g_clear_object (&job->session);
  g_free (job->path);
  if (job->data_free != NULL)
    job->data_free (job->data);
  g_free (job);
}

static void
job_thread (GTask        *task,
            gpointer      source,
            gpointer      task_data,
            GCancellable *cancellable)
{
  Job *job = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PdStore) store = pd_store_open (job->path, &error);
  g_autoptr(PdSession) clone = NULL;
  char *result = NULL;

  if (store != NULL)
    {
      clone = pd_session_clone (job->session, store, &error);
      if (clone != NULL)
        result = job->func (clone, job->data, &error);
      g_clear_object (&clone);
      pd_store_close (store);
    }
  if (result == NULL && error == NULL)
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_FAILED, "failed");
  if (result != NULL)
    g_task_return_pointer (task, result, g_free);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

void
pd_desk_job_run (PdSession           *session,
                 PdDeskJobFunc        func,
                 gpointer             data,
                 GDestroyNotify       data_free,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Job *job = g_new0 (Job, 1);

  job->session = g_object_ref (session);
  job->path = g_strdup (pd_store_get_path (pd_session_get_store (session)));
  job->func = func;
  job->data = data;
  job->data_free = data_free;
  g_task_set_task_data (task, job, job_free);
  g_task_run_in_thread (task, job_thread);
}

char *
pd_desk_job_finish (GAsyncResult  *result,
                    GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
