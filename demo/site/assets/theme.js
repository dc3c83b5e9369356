// Light or dark, before the page renders (a classic script in <head>, not a module, to avoid a flash):
// the visitor's choice from the toggle, kept for the next visit, or else the system's preference.
(() => {
  const root = document.documentElement;
  const system = matchMedia('(prefers-color-scheme: dark)');
  const choice = () => localStorage.getItem('lumen-theme') ?? 'auto';
  const apply = () => {
    root.dataset.theme = choice() === 'auto' ? (system.matches ? 'dark' : 'light') : choice();
    const button = document.querySelector('.theme-toggle');
    if (button) button.textContent = `Theme: ${choice()}`;
  };
  apply();
  system.addEventListener('change', apply);
  document.addEventListener('DOMContentLoaded', () => {
    apply();
    document.querySelector('.theme-toggle')?.addEventListener('click', () => {
      const order = ['auto', 'light', 'dark'];
      localStorage.setItem('lumen-theme', order[(order.indexOf(choice()) + 1) % order.length]);
      apply();
    });
  });
})();
