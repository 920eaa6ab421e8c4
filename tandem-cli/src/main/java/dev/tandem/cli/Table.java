package dev.tandem.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * An aligned table for people: a header, columns separated by two spaces, each column as wide as its widest cell up
 * to a maximum (longer cells are cut with an ellipsis), numbers right-aligned. Colors are applied after padding, so
 * they never disturb the alignment.
 */
final class Table {
    private record Column(String header, int maxWidth, boolean right, BiFunction<String, String, String> color) {}

    private final Style style;
    private final List<Column> columns = new ArrayList<>();
    private final List<String[]> rows = new ArrayList<>();

    Table(Style style) {
        this.style = style;
    }

    Table column(String header, int maxWidth) {
        columns.add(new Column(header, maxWidth, false, (padded, raw) -> padded));
        return this;
    }

    Table number(String header) {
        columns.add(new Column(header, 12, true, (padded, raw) -> padded));
        return this;
    }

    /** A column whose cells are colored by their raw value (e.g. a status). */
    Table column(String header, int maxWidth, BiFunction<String, String, String> color) {
        columns.add(new Column(header, maxWidth, false, color));
        return this;
    }

    Table row(Object... cells) {
        if (cells.length != columns.size()) {
            throw new IllegalArgumentException("a row needs " + columns.size() + " cells (was " + cells.length + ")");
        }
        String[] text = new String[cells.length];
        for (int i = 0; i < cells.length; i++) {
            text[i] = Text.truncate(cells[i] == null ? "" : Text.oneLine(String.valueOf(cells[i])),
                    columns.get(i).maxWidth());
        }
        rows.add(text);
        return this;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    void print(PrintWriter out) {
        int[] widths = new int[columns.size()];
        for (int i = 0; i < widths.length; i++) {
            widths[i] = columns.get(i).header().length();
            for (String[] row : rows) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        StringBuilder header = new StringBuilder();
        for (int i = 0; i < widths.length; i++) {
            Column c = columns.get(i);
            header.append(i == 0 ? "" : "  ").append(pad(c.header(), widths[i], c.right(), i == widths.length - 1));
        }
        out.println(style.bold(header.toString()));
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < widths.length; i++) {
                Column c = columns.get(i);
                String padded = pad(row[i], widths[i], c.right(), i == widths.length - 1);
                line.append(i == 0 ? "" : "  ").append(c.color().apply(padded, row[i]));
            }
            out.println(stripTrailing(line));
        }
        out.flush();
    }

    private static String pad(String text, int width, boolean right, boolean last) {
        if (text.length() >= width) {
            return text;
        }
        String space = " ".repeat(width - text.length());
        return right ? space + text : last ? text : text + space;
    }

    private static String stripTrailing(StringBuilder line) {
        int end = line.length();
        while (end > 0 && line.charAt(end - 1) == ' ') {
            end--;
        }
        return line.substring(0, end);
    }
}
