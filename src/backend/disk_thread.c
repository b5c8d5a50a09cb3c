// SPDX-License-Identifier: Apache-2.0
/*
 * The fallback disk backend: a few worker threads doing blocking I/O, for
 * hosts where io_uring cannot be set up (seccomp filters, old kernels) or
 * when aio=threads asks for it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "backend/disk_internal.h"

struct disk_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct disk_request *head, *tail;	/* FIFO */
	bool stopping;
	unsigned int nr_threads;
	pthread_t threads[];
};

static void *worker(void *arg)
{
	struct disk *d = arg;
	struct disk_pool *p = d->pool;

	for (;;) {
		struct disk_request *req;

		pthread_mutex_lock(&p->lock);
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->work, &p->lock);
		req = p->head;
		if (!req) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		p->head = req->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		disk_finish(d, req, disk_exec_sync(d, req));
	}
}

int disk_pool_start(struct disk *d, unsigned int nr_threads)
{
	struct disk_pool *p = calloc(1, sizeof(*p) + nr_threads * sizeof(pthread_t));

	if (!p)
		return -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	d->pool = p;
	for (; p->nr_threads < nr_threads; p->nr_threads++) {
		char name[16];

		if (pthread_create(&p->threads[p->nr_threads], NULL, worker, d))
			break;
		snprintf(name, sizeof(name), "disk-io%u", p->nr_threads);
		pthread_setname_np(p->threads[p->nr_threads], name);
	}
	if (p->nr_threads == 0) {
		disk_pool_stop(d);
		return -1;
	}
	return 0;
}

void disk_pool_stop(struct disk *d)
{
	struct disk_pool *p = d->pool;

	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned int i = 0; i < p->nr_threads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	free(p);
	d->pool = NULL;
}

void disk_pool_submit(struct disk *d, struct disk_request *req)
{
	struct disk_pool *p = d->pool;

	req->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = req;
	else
		p->head = req;
	p->tail = req;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}
