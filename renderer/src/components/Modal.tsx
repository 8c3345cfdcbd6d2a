import { useEffect, useRef, type ReactNode } from "react";

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

interface ModalProps {
  titleId: string;
  onClose: () => void;
  children: ReactNode;
  role?: "dialog" | "alertdialog";
  className?: string;
  testId?: string;
  /** Element to focus first (defaults to the first focusable one). */
  initialFocus?: React.RefObject<HTMLElement | null>;
}

/** The open dialogs, innermost last: only that one answers keys that land outside every dialog. */
const openModals: HTMLElement[] = [];

/**
 * A modal dialog: traps Tab, closes on Escape or a click on the backdrop, gives focus back when it closes. When the
 * focused control goes away inside it (a button disabled while it works, a row removed), focus falls to the page:
 * Escape and Tab still reach the innermost dialog then, and Tab brings focus back into it.
 */
export function Modal({ titleId, onClose, children, role = "dialog", className, testId, initialFocus }: ModalProps) {
  const ref = useRef<HTMLDivElement>(null);
  const onCloseRef = useRef(onClose);
  useEffect(() => {
    onCloseRef.current = onClose;
  });

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    openModals.push(el);
    const onStrayKey = (e: KeyboardEvent) => {
      if (openModals.at(-1) !== el || e.defaultPrevented) return;
      const active = document.activeElement;
      if (active && active !== document.body && openModals.some((m) => m.contains(active))) return;
      if (e.key === "Escape") {
        e.preventDefault();
        onCloseRef.current();
      } else if (e.key === "Tab") {
        e.preventDefault();
        const items = [...el.querySelectorAll<HTMLElement>(FOCUSABLE)];
        const target = (e.shiftKey ? items.at(-1) : items[0]) ?? el;
        target.focus();
      }
    };
    document.addEventListener("keydown", onStrayKey);
    return () => {
      document.removeEventListener("keydown", onStrayKey);
      openModals.splice(openModals.indexOf(el), 1);
    };
  }, []);

  useEffect(() => {
    const previouslyFocused = document.activeElement as HTMLElement | null;
    const target = initialFocus?.current ?? ref.current?.querySelector<HTMLElement>(FOCUSABLE) ?? ref.current;
    target?.focus();
    return () => previouslyFocused?.focus?.();
    // Only on open and close: the dialog keeps its focus while it is open.
  }, []);

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      onCloseRef.current();
      return;
    }
    if (e.key !== "Tab" || !ref.current) return;
    const items = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    if (items.length === 0) return;
    const first = items[0];
    const last = items[items.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  };

  return (
    <div
      className="modal-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onCloseRef.current();
      }}
    >
      <div
        ref={ref}
        className={`modal ${className ?? ""}`}
        role={role}
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
        onKeyDown={onKeyDown}
        data-testid={testId}
      >
        {children}
      </div>
    </div>
  );
}
