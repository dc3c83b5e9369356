// The portal's own glue, a few lines per page: the kit (disco.js) brings the elements, this file only
// wires their `disco-*` events to the site's pages. Every page loads it after disco.js.

// The API is served from the same origin as the portal.
const server = location.origin;
for (const element of document.querySelectorAll('disco-task-list, disco-task, disco-train, disco-evaluate, disco-task-form')) {
  if (!element.hasAttribute('server')) element.setAttribute('server', server);
}

const params = new URLSearchParams(location.search);
const page = document.body.dataset.page;

// Projects: choosing a task opens its page.
document.addEventListener('disco-task-select', (event) => {
  location.href = `task.html?task=${encodeURIComponent(event.detail.taskId)}`;
});

if (page === 'task') {
  const taskId = params.get('task');
  if (!taskId) {
    location.replace('index.html');
  } else {
    for (const element of document.querySelectorAll('disco-task, disco-train, disco-evaluate')) element.setAttribute('task-id', taskId);
    const crumb = document.querySelector('[data-task-id]');
    crumb.textContent = taskId;
    // The task's title in the breadcrumb and the window title, once <disco-task> has it from the server.
    document.addEventListener('disco-task-load', (event) => {
      const { title } = event.detail.task;
      crumb.textContent = title;
      document.title = `${title} · Lumen Research Consortium`;
    });
    const trained = document.querySelector('#trained');
    document.addEventListener('disco-train-end', (event) => {
      const { metrics, modelId } = event.detail;
      trained.querySelector('[data-accuracy]').textContent =
        metrics.accuracy === undefined ? '' : ` It reached ${(metrics.accuracy * 100).toFixed(1)} % accuracy.`;
      trained.hidden = false;
      document.querySelector('disco-evaluate')?.setAttribute('model-id', modelId);
    });
  }
}

if (page === 'models') {
  // The library's `for` attribute hands the model to <disco-evaluate>; the page only reveals it.
  document.addEventListener('disco-model-open', () => {
    document.querySelector('#evaluate').hidden = false;
    document.querySelector('#evaluate h2').focus();
  });
}

if (page === 'create') {
  document.addEventListener('disco-task-create', (event) => {
    const created = document.querySelector('#created');
    const link = created.querySelector('a');
    link.href = `task.html?task=${encodeURIComponent(event.detail.task.id)}`;
    link.textContent = event.detail.task.title;
    created.hidden = false;
    created.focus();
  });
}
