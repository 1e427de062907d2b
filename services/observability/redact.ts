// Log lines must not carry subscribers' numbers: a reject reason quotes the field it could not
// read (`url: port "447700900123" is not a number`), which may be one. The full reason goes to
// the rejects file or the dead-letter topic; the log gets it with long digit runs hidden.

/** Runs of 8 or more digits (no subscriber number is shorter), possibly split by spaces, dashes or dots. */
const DIGIT_RUN = /\+?\d(?:[\s.-]?\d){7,}/g;

export function redactNumbers(text: string): string {
  return text.replace(DIGIT_RUN, '<digits>');
}
