// The PromQL editor: CodeMirror 6 with Prometheus' own PromQL language support, completing metric
// names, label names and values from this server's API and functions offline.
import { useEffect, useRef } from 'preact/hooks';
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, placeholder as cmPlaceholder, highlightSpecialChars, drawSelection } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, insertNewlineAndIndent } from '@codemirror/commands';
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, completionStatus } from '@codemirror/autocomplete';
import { bracketMatching, syntaxHighlighting, HighlightStyle } from '@codemirror/language';
import { tags } from '@lezer/highlight';
import { lintKeymap, setDiagnostics } from '@codemirror/lint';
import { PromQLExtension } from '@prometheus-io/codemirror-promql';

const darkHighlight = HighlightStyle.define([
  { tag: tags.keyword, color: '#ff9e64' },
  { tag: [tags.function(tags.variableName), tags.function(tags.name)], color: '#7aa2f7' },
  { tag: tags.labelName, color: '#e0af68' },
  { tag: tags.string, color: '#9ece6a' },
  { tag: tags.number, color: '#2ac3de' },
  { tag: tags.operator, color: '#bb9af7' },
  { tag: tags.comment, color: '#6b7280', fontStyle: 'italic' },
  { tag: tags.invalid, color: '#f7768e' },
]);

export interface EditorHandle {
  view: EditorView;
}

/** Offset in `text` of a Prometheus parse error position ("1:14: parse error: ..." or "at char 5"). */
export function errorPosition(text: string, message: string): { from: number; to: number } | null {
  let m = /(?:^|\s)(\d+):(\d+):\s/.exec(message);
  let offset: number | null = null;
  if (m) {
    const line = Number(m[1]);
    const col = Number(m[2]);
    const lines = text.split('\n');
    if (line >= 1 && line <= lines.length) {
      offset = lines.slice(0, line - 1).reduce((a, l) => a + l.length + 1, 0) + Math.max(0, col - 1);
    }
  } else if ((m = /at char (\d+)/.exec(message))) {
    offset = Number(m[1]) - 1;
  }
  if (offset === null) return null;
  const from = Math.min(Math.max(0, offset), text.length);
  return { from, to: Math.min(text.length, from + 1) };
}

export function showServerError(view: EditorView, message: string) {
  const text = view.state.doc.toString();
  const pos = errorPosition(text, message) ?? { from: 0, to: text.length };
  view.dispatch(setDiagnostics(view.state, [{ ...pos, severity: 'error', message, source: 'server' }]));
}

interface Props {
  /** Initial text; later changes come only from the user (the editor owns its document). */
  value: string;
  onChange: (v: string) => void;
  onExecute: () => void;
  handle?: { current: EditorHandle | null };
  placeholder?: string;
}

export function PromQLEditor(props: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const cb = useRef(props);
  cb.current = props;

  useEffect(() => {
    if (!ref.current) return;
    const promql = new PromQLExtension().setComplete({
      remote: { url: location.origin, httpMethod: 'GET', lookbackInterval: 12 * 3600 * 1000 },
      maxMetricsMetadata: 10000,
    });
    const execute = () => {
      cb.current.onExecute();
      return true;
    };
    const view = new EditorView({
      parent: ref.current,
      state: EditorState.create({
        doc: props.value,
        extensions: [
          highlightSpecialChars(),
          history(),
          drawSelection(),
          bracketMatching(),
          closeBrackets(),
          autocompletion(),
          syntaxHighlighting(darkHighlight),
          cmPlaceholder(props.placeholder ?? 'Expression (press Shift+Enter for newlines)'),
          EditorView.lineWrapping,
          keymap.of([
            {
              key: 'Enter',
              run: (v) => (completionStatus(v.state) === 'active' ? false : execute()),
            },
            { key: 'Shift-Enter', run: insertNewlineAndIndent },
            ...closeBracketsKeymap,
            ...defaultKeymap,
            ...historyKeymap,
            ...completionKeymap,
            ...lintKeymap,
          ]),
          promql.asExtension(),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) cb.current.onChange(u.state.doc.toString());
          }),
        ],
      }),
    });
    if (props.handle) props.handle.current = { view };
    return () => view.destroy();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);


  return <div class="promql-editor" ref={ref} data-testid="promql-editor" />;
}
