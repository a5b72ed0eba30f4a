export function EmptyHome({ title, message, showHomeLink }: { title: string; message: string; showHomeLink?: boolean }) {
  return (
    <section class="card" aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        {title}
      </h1>
      <p class="empty">{message}</p>
      {showHomeLink && (
        <p>
          <a href="/">Go to my home</a>
        </p>
      )}
    </section>
  );
}
